namespace Wafer.Chain;

/// <summary>An exclusive lock on a chain folder for the length of one add, so two writers cannot interleave.</summary>
internal sealed class ChainLock : IDisposable
{
    private readonly FileStream _stream;

    private ChainLock(FileStream stream) => _stream = stream;

    public static ChainLock Acquire(string chain)
    {
        string path = Path.Combine(chain, ".lock");
        try
        {
            return new ChainLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose));
        }
        catch (IOException e)
        {
            throw new IOException($"{chain}: another process is adding to this chain ({e.Message}).", e);
        }
    }

    public void Dispose() => _stream.Dispose();
}
