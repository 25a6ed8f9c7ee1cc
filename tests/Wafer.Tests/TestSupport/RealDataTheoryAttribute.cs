namespace Wafer.Tests.TestSupport;

/// <summary>A theory that needs the shared real weights; skipped, with the reason, when they are absent.</summary>
public sealed class RealDataTheoryAttribute : TheoryAttribute
{
    public RealDataTheoryAttribute()
    {
        if (RealData.Folder is null)
        {
            Skip = RealData.SkipReason;
        }
    }
}
