namespace Wafer;

/// <summary>
/// Stored data whose checksum does not match: a flipped bit in an archive chunk, a restored file whose
/// SHA-256 differs from the manifest, a patch applied to the wrong base.
/// </summary>
public sealed class WaferIntegrityException : WaferDataException
{
    /// <summary>Creates the exception with a message that names where and what.</summary>
    public WaferIntegrityException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that revealed the problem.</summary>
    public WaferIntegrityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public WaferIntegrityException()
    {
    }
}
