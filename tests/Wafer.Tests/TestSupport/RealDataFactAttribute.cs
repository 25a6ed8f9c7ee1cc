namespace Wafer.Tests.TestSupport;

/// <summary>A fact that needs the shared real weights; skipped, with the reason, when they are absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (RealData.Folder is null)
        {
            Skip = RealData.SkipReason;
        }
    }

    /// <summary>Needs every one of <paramref name="relatives"/> inside the data folder.</summary>
    public RealDataFactAttribute(params string[] relatives)
    {
        foreach (string relative in relatives)
        {
            if (RealData.Find(relative) is null)
            {
                Skip = $"real data '{relative}' not found: {RealData.SkipReason}";
                return;
            }
        }
    }
}
