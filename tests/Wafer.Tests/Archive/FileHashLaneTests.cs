using System.Security.Cryptography;
using Wafer.Archive;
using Wafer.IO;

namespace Wafer.Tests.Archive;

public sealed class FileHashLaneTests
{
    [Fact]
    public void Every_file_gets_its_sha256_empty_ones_included_and_every_block_is_released()
    {
        // Files 0 and 3 are empty; file 2 arrives in many blocks, more than the lane lets wait.
        byte[][] files = [[], RandomBytes(1, 1000), RandomBytes(2, 70_000), [], RandomBytes(3, 5)];
        string?[] hashes = new string?[files.Length];
        var released = new CountingBlocks();
        using (var lane = new FileHashLane(files.Length, (file, sha256) => hashes[file] = sha256))
        {
            for (int file = 0; file < files.Length; file++)
            {
                for (int at = 0; at < files[file].Length; at += 4096)
                {
                    lane.Append(file, released.Block(files[file].AsSpan(at, Math.Min(4096, files[file].Length - at))));
                }
            }

            lane.Complete();
        }

        Assert.Equal(files.Select(f => Convert.ToHexStringLower(SHA256.HashData(f))), hashes);
        Assert.Equal(released.Created, released.Released);
    }

    [Fact]
    public void What_the_callback_throws_comes_out_with_its_type_and_later_blocks_are_still_released()
    {
        var released = new CountingBlocks();
        using var lane = new FileHashLane(3, (file, _) => throw new WaferIntegrityException($"file {file} is wrong"));
        lane.Append(0, released.Block([1, 2, 3]));

        // File 1's first block finishes file 0 on the lane; the failure surfaces from a later call.
        var error = Assert.Throws<WaferIntegrityException>(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                lane.Append(1, released.Block([4]));
            }

            lane.Complete();
        });
        Assert.Equal("file 0 is wrong", error.Message);
        lane.Dispose();
        Assert.Equal(released.Created, released.Released);
    }

    [Fact]
    public void Disposing_without_completing_releases_every_waiting_block()
    {
        var released = new CountingBlocks();
        using (var lane = new FileHashLane(2, (_, _) => { }))
        {
            for (int i = 0; i < 20; i++)
            {
                lane.Append(i / 10, released.Block(RandomBytes(i, 100_000)));
            }
        }

        Assert.Equal(20, released.Created);
        Assert.Equal(20, released.Released);
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private sealed class CountingBlocks
    {
        private int _created;
        private int _released;

        public int Created => Volatile.Read(ref _created);

        public int Released => Volatile.Read(ref _released);

        public IHashBlock Block(ReadOnlySpan<byte> data)
        {
            Interlocked.Increment(ref _created);
            return new Counted(data.ToArray(), this);
        }

        private sealed class Counted(byte[] data, CountingBlocks owner) : IHashBlock
        {
            private int _done;

            public ReadOnlySpan<byte> Data => data;

            public void Release()
            {
                Assert.Equal(0, Interlocked.Exchange(ref _done, 1));
                Interlocked.Increment(ref owner._released);
            }
        }
    }
}
