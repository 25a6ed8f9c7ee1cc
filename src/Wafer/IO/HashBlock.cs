using System.Buffers;

namespace Wafer.IO;

/// <summary>Bytes handed to a consumer on another thread (a file hash lane), which releases them once done.</summary>
internal interface IHashBlock
{
    ReadOnlySpan<byte> Data { get; }

    void Release();
}

/// <summary>The first <c>length</c> bytes of a buffer rented from <see cref="ArrayPool{T}.Shared"/>, returned on release.</summary>
internal sealed class PooledHashBlock(byte[] buffer, int length) : IHashBlock
{
    public ReadOnlySpan<byte> Data => buffer.AsSpan(0, length);

    public void Release() => ArrayPool<byte>.Shared.Return(buffer);
}
