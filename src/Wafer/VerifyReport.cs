namespace Wafer;

/// <summary>The result of <see cref="WaferArchive.Verify"/>: every problem found, each naming its tensor or file.</summary>
/// <param name="CheckedBytes">Decoded bytes checked.</param>
/// <param name="Problems">One line per corrupt chunk or file; empty when the archive is intact.</param>
public sealed record VerifyReport(long CheckedBytes, IReadOnlyList<string> Problems)
{
    /// <summary>True when every checksum matched.</summary>
    public bool IsIntact => Problems.Count == 0;
}
