namespace Wafer.Tests.TestSupport;

/// <summary>A fact that needs the shared real weights; skipped, with the reason, when they are absent.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (RealData.Folder is null)
        {
            Skip = RealData.SkipReason;
        }
    }
}
