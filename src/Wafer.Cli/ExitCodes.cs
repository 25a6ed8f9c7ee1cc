namespace Wafer.Cli;

/// <summary>The process exit codes, one per kind of failure, documented in the README.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A bug: an exception Wafer did not expect.</summary>
    public const int InternalError = 1;

    /// <summary>The command line is wrong (unknown option, missing argument, bad value).</summary>
    public const int Usage = 2;

    /// <summary>An input is malformed: bad safetensors header, not an archive, unsafe path, symlink.</summary>
    public const int BadInput = 3;

    /// <summary>Stored data does not match its checksum.</summary>
    public const int Integrity = 4;

    /// <summary>Reading or writing failed (missing file, permission, disk full, output exists).</summary>
    public const int IoFailure = 5;

    /// <summary>Interrupted by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;
}
