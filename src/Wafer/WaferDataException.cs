namespace Wafer;

/// <summary>
/// Input that is not what it claims to be: a malformed safetensors header, a truncated or tampered archive,
/// a manifest path that escapes the output folder. The message names the file, tensor and problem.
/// (<see cref="InvalidDataException"/> is sealed, so this is the one bad-data type Wafer throws instead.)
/// </summary>
public class WaferDataException : Exception
{
    /// <summary>Creates the exception with a message that names where and what.</summary>
    public WaferDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that revealed the problem.</summary>
    public WaferDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public WaferDataException()
    {
    }
}
