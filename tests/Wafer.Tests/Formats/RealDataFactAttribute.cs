namespace Wafer.Tests.Formats;

/// <summary>A fact that needs the shared real-weights folder; skipped with the reason when it is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute(string folder)
    {
        if (RealData.Find(folder) is null)
        {
            Skip = $"real data folder '{folder}' not found under shared/data (set WAFER_DATA or run where ../shared/data exists)";
        }
    }
}
