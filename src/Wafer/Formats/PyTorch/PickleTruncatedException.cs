namespace Wafer.Formats.PyTorch;

/// <summary>
/// The pickle ran out of bytes before STOP. A <see cref="WaferDataException"/> like every other bad-data error;
/// the legacy reader catches it to read a larger prefix of the file and try again.
/// </summary>
internal sealed class PickleTruncatedException : WaferDataException
{
    public PickleTruncatedException(string message)
        : base(message)
    {
    }

    public PickleTruncatedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PickleTruncatedException()
    {
    }
}
