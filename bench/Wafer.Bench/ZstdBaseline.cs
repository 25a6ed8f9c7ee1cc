using System.Diagnostics;
using ZstdSharp;

namespace Wafer.Bench;

/// <summary>
/// zstd level 3 on every file of a folder, one thread: the <c>zstd</c> command when installed (the native
/// reference), else ZstdSharp in process. Returns compressed bytes and seconds.
/// </summary>
internal static class ZstdBaseline
{
    public static bool HasCli { get; } = File.Exists("/usr/bin/zstd") || File.Exists("/usr/local/bin/zstd");

    public static (long Bytes, double Seconds) Compress(string folder, int level = 3)
    {
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            bytes += HasCli ? CompressWithCli(file, level) : CompressInProcess(file, level);
        }

        return (bytes, clock.Elapsed.TotalSeconds);
    }

    private static long CompressWithCli(string file, int level)
    {
        var start = new ProcessStartInfo("zstd") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { $"-{level}", "-T1", "-q", "-c", file })
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        using var counter = new CountingStream();
        process.StandardOutput.BaseStream.CopyTo(counter);
        process.WaitForExit();
        return counter.Length;
    }

    private static long CompressInProcess(string file, int level)
    {
        using var compressor = new Compressor(level);
        return compressor.Wrap(File.ReadAllBytes(file)).Length;
    }

    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
