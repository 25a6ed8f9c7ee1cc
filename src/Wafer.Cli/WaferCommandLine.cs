using System.CommandLine;
using Wafer.Cli.Commands;

namespace Wafer.Cli;

/// <summary>Builds the <c>wafer</c> command tree and maps every failure to one message and a distinct exit code.</summary>
internal static class WaferCommandLine
{
    public static RootCommand Build() => new("Wafer: lossless, float-aware archives of neural-network weights.")
    {
        DemoCommand.Create(),
        PackCommand.Create(),
        UnpackCommand.Create(),
        InfoCommand.Create(),
        ListCommand.Create(),
        ExtractCommand.Create(),
        VerifyCommand.Create(),
        DiffCommand.Create(),
        ApplyCommand.Create(),
        ChainCommand.Create(),
    };

    public static int Run(string[] args)
    {
        ParseResult parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (System.CommandLine.Parsing.ParseError error in parse.Errors)
            {
                Console.Error.WriteLine($"wafer: {error.Message}");
            }

            Console.Error.WriteLine("Run 'wafer --help' for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            int code = Classify(e) ?? ExitCodes.InternalError;
            Console.Error.WriteLine(code switch
            {
                ExitCodes.Cancelled => "wafer: cancelled; nothing was left under the output name.",
                ExitCodes.InternalError => $"wafer: internal error, please report it: {e}",
                _ => $"wafer: {e.Message}",
            });
            return code;
        }
    }

    private static int? Classify(Exception e) => e switch
    {
        WaferIntegrityException => ExitCodes.Integrity,
        WaferDataException => ExitCodes.BadInput,
        OperationCanceledException => ExitCodes.Cancelled,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException => ExitCodes.IoFailure,
        ArgumentException => ExitCodes.Usage,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Classify(aggregate.InnerExceptions[0]),
        _ => null,
    };
}
