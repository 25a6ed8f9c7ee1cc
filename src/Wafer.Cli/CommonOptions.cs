using System.CommandLine;
using Wafer.Codecs;

namespace Wafer.Cli;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "Print no progress and no summary; errors still go to standard error." };

    public static Option<bool> Force() => new("--force", "-f") { Description = "Replace an existing output." };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Worker threads (0 = one per core). The output bytes do not depend on it.",
        DefaultValueFactory = _ => 0,
        Validators = { r => { if (r.GetValueOrDefault<int>() < 0) { r.AddError("--threads must be 0 or more."); } } },
    };

    public static Option<CodecChoice> Codec() => new("--codec")
    {
        Description = "auto: best codec per chunk (default); zstd: zstd or raw; raw: store as is.",
        DefaultValueFactory = _ => CodecChoice.Auto,
    };

    public static Option<string> ChunkSize() => new("--chunk-size")
    {
        Description = "Decoded chunk size, 4KiB..64MiB (default 4MiB).",
        DefaultValueFactory = _ => "4MiB",
        Validators =
        {
            r =>
            {
                string text = r.GetValueOrDefault<string>() ?? "";
                if (!ByteSize.TryParse(text, out int size) || size < 4096 || size > (64 << 20) || size % 64 != 0)
                {
                    r.AddError($"--chunk-size '{text}' must be a multiple of 64 bytes between 4KiB and 64MiB.");
                }
            },
        },
    };

    public static Option<string> Output(string description) => new("--output", "-o") { Description = description, Required = true };

    public static Argument<string> Archive() => new("archive") { Description = "A .wafer archive." };
}
