using System.Buffers.Binary;
using System.Text;

namespace Wafer.Tests.Formats.PyTorch;

/// <summary>
/// Emits pickle opcodes byte by byte as the pickle specification (Lib/pickletools.py) defines them, so tests
/// build torch pickles without Python or torch. Each method appends exactly one opcode and its argument.
/// </summary>
public sealed class PickleWriter
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    public PickleWriter Proto(byte version) => Op(0x80, version);

    public PickleWriter Stop() => Op((byte)'.');

    public PickleWriter Mark() => Op((byte)'(');

    public PickleWriter Tuple() => Op((byte)'t');

    public PickleWriter Tuple1() => Op(0x85);

    public PickleWriter Tuple2() => Op(0x86);

    public PickleWriter Tuple3() => Op(0x87);

    public PickleWriter EmptyTuple() => Op((byte)')');

    public PickleWriter EmptyDict() => Op((byte)'}');

    public PickleWriter EmptyList() => Op((byte)']');

    public PickleWriter SetItem() => Op((byte)'s');

    public PickleWriter SetItems() => Op((byte)'u');

    public PickleWriter Append() => Op((byte)'a');

    public PickleWriter Reduce() => Op((byte)'R');

    public PickleWriter Build() => Op((byte)'b');

    public PickleWriter NewObj() => Op(0x81);

    public PickleWriter BinPersId() => Op((byte)'Q');

    public PickleWriter None() => Op((byte)'N');

    public PickleWriter NewFalse() => Op(0x89);

    public PickleWriter NewTrue() => Op(0x88);

    public PickleWriter Dup() => Op((byte)'2');

    public PickleWriter BinInt1(byte value) => Op((byte)'K', value);

    public PickleWriter BinInt2(ushort value) => Op((byte)'M', (byte)value, (byte)(value >> 8));

    public PickleWriter BinInt(int value)
    {
        Op((byte)'J');
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public PickleWriter Long1(params byte[] littleEndian)
    {
        Op(0x8a, (byte)littleEndian.Length);
        _bytes.AddRange(littleEndian);
        return this;
    }

    public PickleWriter BinFloat(double value)
    {
        Op((byte)'G');
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(bytes, value);
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public PickleWriter BinUnicode(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        Op((byte)'X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)utf8.Length);
        _bytes.AddRange(length.ToArray());
        _bytes.AddRange(utf8);
        return this;
    }

    public PickleWriter ShortBinBytes(byte[] data)
    {
        Op(0x43, (byte)data.Length);
        _bytes.AddRange(data);
        return this;
    }

    public PickleWriter Global(string module, string name)
    {
        Op((byte)'c');
        _bytes.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        return this;
    }

    public PickleWriter BinPut(byte index) => Op((byte)'q', index);

    public PickleWriter BinGet(byte index) => Op((byte)'h', index);

    /// <summary>Appends raw bytes (for hostile tests that need opcodes this writer does not name).</summary>
    public PickleWriter Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>
    /// The opcodes torch emits for one tensor: <c>_rebuild_tensor_v2(persistent_load(('storage', torch.&lt;type&gt;,
    /// key, 'cpu', numel)), offset, size, stride, False, OrderedDict())</c>.
    /// </summary>
    public PickleWriter Tensor(string storageType, string key, int numel, int offset, int[] size, int[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark().BinUnicode("storage").Global("torch", storageType).BinUnicode(key).BinUnicode("cpu").BinInt(numel).Tuple();
        BinPersId();
        BinInt(offset);
        Mark();
        foreach (int dim in size)
        {
            BinInt(dim);
        }

        Tuple();
        Mark();
        foreach (int step in stride)
        {
            BinInt(step);
        }

        Tuple();
        NewFalse();
        Global("collections", "OrderedDict").EmptyTuple().Reduce();
        Tuple();
        return Reduce();
    }

    private PickleWriter Op(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }
}
