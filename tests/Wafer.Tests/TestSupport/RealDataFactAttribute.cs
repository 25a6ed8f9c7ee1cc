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

    /// <summary>Needs <paramref name="relative"/> inside the data folder.</summary>
    public RealDataFactAttribute(string relative)
    {
        if (RealData.Find(relative) is null)
        {
            Skip = $"real data '{relative}' not found: {RealData.SkipReason}";
        }
    }
}
