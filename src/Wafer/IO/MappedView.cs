using System.IO.MemoryMappedFiles;

namespace Wafer.IO;

/// <summary>
/// A mapped window onto part of a file. Unmapped on dispose, so the pages it touched leave the process's
/// resident set: memory stays bounded by the chunks in flight, not by the size of the model.
/// </summary>
internal sealed unsafe class MappedView : IDisposable, IHashBlock
{
    private readonly MemoryMappedViewAccessor? _accessor;
    private readonly byte* _pointer;
    private readonly int _length;
    private int _disposed;

    internal MappedView(MemoryMappedViewAccessor? accessor, byte* pointer, int length)
    {
        _accessor = accessor;
        _pointer = pointer;
        _length = length;
    }

    public ReadOnlySpan<byte> Span => _length == 0 ? default : new ReadOnlySpan<byte>(_pointer, _length);

    ReadOnlySpan<byte> IHashBlock.Data => Span;

    void IHashBlock.Release() => Dispose();

    public void Dispose()
    {
        if (_accessor is not null && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
            _accessor.Dispose();
        }
    }
}
