namespace Wafer.Tests.Codecs;

/// <summary>A fact that needs the real weights in the shared data folder; skipped, with the reason, where it is absent.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RealWeightsFactAttribute : FactAttribute
{
    public RealWeightsFactAttribute()
    {
        if (RealWeights.Folder is null)
        {
            Skip = "real weights not found: set WAFER_DATA or place them in ../shared/data next to the repository";
        }
    }
}
