namespace Wafer.Cli;

internal static class Program
{
    private static int Main(string[] args) => WaferCommandLine.Run(args);
}
