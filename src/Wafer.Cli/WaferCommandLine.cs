namespace Wafer.Cli;

internal static class WaferCommandLine
{
    public static int Run(string[] args) => args.Length == 0 ? 2 : 0;
}
