using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Wafer.Formats.PyTorch;

/// <summary>
/// A pickle virtual machine that cannot execute anything. It understands protocols 0–5 well enough for torch
/// checkpoints and builds an inert object graph: dicts, lists, tuples (<c>object?[]</c>), strings, integers,
/// floats, booleans, None, bytes, plus <see cref="TorchTensorRef"/> and <see cref="TorchStorageRef"/> for the few
/// allow-listed torch globals (<see cref="PickleGlobals"/>). Every other global, and every opcode outside the
/// supported set, is refused with a <see cref="WaferDataException"/>. Opcode count, stack depth, memo size and
/// every declared length are capped, so a hostile pickle costs bounded time and memory.
/// </summary>
internal sealed class PickleMachine
{
    /// <summary>Most opcodes one pickle may execute (a large model's state dict needs well under a million).</summary>
    public const int MaxOpcodes = 8_000_000;

    /// <summary>Deepest stack (and most open marks) allowed.</summary>
    public const int MaxStackDepth = 1_000_000;

    /// <summary>Most memo entries allowed.</summary>
    public const int MaxMemoEntries = 1_000_000;

    private const int MaxLineLength = 4096;
    private const int MaxLongBytes = 1 << 16;

    private readonly string _path;
    private readonly string _what;
    private readonly byte[] _data;
    private readonly int _end;
    private readonly Func<object?, object?> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;
    private int _opcodeOffset;

    private PickleMachine(string path, string what, byte[] data, int start, int end, Func<object?, object?> persistentLoad)
    {
        _path = path;
        _what = what;
        _data = data;
        _position = start;
        _end = end;
        _persistentLoad = persistentLoad;
    }

    /// <summary>
    /// Runs the pickle in <paramref name="data"/>[<paramref name="start"/>, <paramref name="end"/>) up to its STOP.
    /// <paramref name="persistentLoad"/> turns a persistent id into a value (it must not trust its argument).
    /// </summary>
    /// <param name="path">The file, for messages.</param>
    /// <param name="what">Which pickle of the file, for messages (e.g. <c>archive/data.pkl</c>).</param>
    /// <param name="data">Bytes holding the pickle.</param>
    /// <param name="start">Where the pickle starts.</param>
    /// <param name="end">Where the available bytes end; running past it throws <see cref="PickleTruncatedException"/>.</param>
    /// <param name="persistentLoad">Resolves persistent ids.</param>
    /// <param name="stop">Offset just after the STOP opcode.</param>
    /// <returns>The unpickled value.</returns>
    public static object? Run(string path, string what, byte[] data, int start, int end, Func<object?, object?> persistentLoad, out int stop)
    {
        var machine = new PickleMachine(path, what, data, start, end, persistentLoad);
        object? value = machine.Execute();
        stop = machine._position;
        return value;
    }

    private object? Execute()
    {
        for (int count = 0; ; count++)
        {
            if (count == MaxOpcodes)
            {
                throw Bad($"more than {MaxOpcodes} opcodes");
            }

            _opcodeOffset = _position;
            byte opcode = ReadByte();
            switch (opcode)
            {
                case 0x80: // PROTO
                    byte protocol = ReadByte();
                    if (protocol > 5)
                    {
                        throw Bad($"unsupported pickle protocol {protocol}");
                    }

                    break;
                case 0x95: // FRAME: a buffering hint; the bytes that follow are ordinary opcodes.
                    ReadBytes(8);
                    break;
                case (byte)'.': // STOP
                    return Pop();
                case (byte)'(': // MARK
                    if (_marks.Count == MaxStackDepth)
                    {
                        throw Bad($"more than {MaxStackDepth} open marks");
                    }

                    _marks.Add(_stack.Count);
                    break;
                case (byte)'0': // POP: like CPython, an empty frame pops the mark instead.
                    if (_stack.Count > Fence)
                    {
                        _stack.RemoveAt(_stack.Count - 1);
                    }
                    else
                    {
                        PopMark();
                    }

                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;
                case (byte)'N':
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'I': // INT (text); "00"/"01" are protocol 0's booleans.
                    Push(ReadLine() switch
                    {
                        "00" => false,
                        "01" => true,
                        string text when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) => value,
                        string text => throw Bad($"INT argument '{Shorten(text)}' is not an integer"),
                    });
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)));
                    break;
                case 0x8a: // LONG1
                    Push(ReadLong(ReadByte()));
                    break;
                case 0x8b: // LONG4
                    Push(ReadLong(ReadLength(4)));
                    break;
                case (byte)'G': // BINFLOAT: big-endian binary64.
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                    break;
                case (byte)'U': // SHORT_BINSTRING: Python 2 str, read as Latin-1 text.
                    Push(Encoding.Latin1.GetString(ReadBytes(ReadByte())));
                    break;
                case (byte)'T': // BINSTRING
                    Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(4))));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(Encoding.UTF8.GetString(ReadBytes(ReadByte())));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(4))));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(8))));
                    break;
                case 0x43: // SHORT_BINBYTES
                    Push(ReadBytes(ReadByte()).ToArray());
                    break;
                case 0x42: // BINBYTES
                    Push(ReadBytes(ReadLength(4)).ToArray());
                    break;
                case 0x8e or 0x96: // BINBYTES8, BYTEARRAY8
                    Push(ReadBytes(ReadLength(8)).ToArray());
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(Array.Empty<object?>());
                    break;
                case 0x8f: // EMPTY_SET: kept as a list; nothing hashes its items.
                    Push(new List<object?>());
                    break;
                case (byte)'d': // DICT
                    {
                        var dict = new PickleDict();
                        AddPairs(dict, PopMark());
                        Push(dict);
                        break;
                    }

                case (byte)'l': // LIST
                    Push(new List<object?>(PopMark()));
                    break;
                case (byte)'t': // TUPLE
                    Push(PopMark());
                    break;
                case 0x91: // FROZENSET
                    Push(new List<object?>(PopMark()));
                    break;
                case 0x85: // TUPLE1
                    Push(new[] { Pop() });
                    break;
                case 0x86: // TUPLE2
                    {
                        object? second = Pop();
                        Push(new[] { Pop(), second });
                        break;
                    }

                case 0x87: // TUPLE3
                    {
                        object? third = Pop();
                        object? second = Pop();
                        Push(new[] { Pop(), second, third });
                        break;
                    }

                case (byte)'a': // APPEND
                    {
                        object? item = Pop();
                        AppendTo(Peek(), [item]);
                        break;
                    }

                case (byte)'e': // APPENDS
                    {
                        object?[] items = PopMark();
                        AppendTo(Peek(), items);
                        break;
                    }

                case 0x90: // ADDITEMS
                    {
                        object?[] items = PopMark();
                        AppendTo(Peek(), items);
                        break;
                    }

                case (byte)'s': // SETITEM
                    {
                        object? value = Pop();
                        object? key = Pop();
                        SetItems(Peek(), [key, value]);
                        break;
                    }

                case (byte)'u': // SETITEMS
                    {
                        object?[] items = PopMark();
                        SetItems(Peek(), items);
                        break;
                    }

                case (byte)'g': // GET (text)
                    Push(MemoGet(ParseIndex(ReadLine())));
                    break;
                case (byte)'h': // BINGET
                    Push(MemoGet(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))));
                    break;
                case (byte)'p': // PUT (text)
                    MemoPut(ParseIndex(ReadLine()));
                    break;
                case (byte)'q': // BINPUT
                    MemoPut(ReadByte());
                    break;
                case (byte)'r': // LONG_BINPUT
                    MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)));
                    break;
                case 0x94: // MEMOIZE
                    MemoPut(_memo.Count);
                    break;
                case (byte)'c': // GLOBAL
                    {
                        string module = ReadLine();
                        string name = ReadLine();
                        Push(ResolveGlobal(module, name));
                        break;
                    }

                case 0x93: // STACK_GLOBAL
                    {
                        object? name = Pop();
                        object? module = Pop();
                        if (module is not string moduleName || name is not string globalName
                            || moduleName.Length > MaxLineLength || globalName.Length > MaxLineLength)
                        {
                            throw Bad($"STACK_GLOBAL operands are not strings of at most {MaxLineLength} characters");
                        }

                        Push(ResolveGlobal(moduleName, globalName));
                        break;
                    }

                case (byte)'R': // REDUCE
                    {
                        object? arguments = Pop();
                        object? callable = Pop();
                        Push(Reduce(callable, arguments));
                        break;
                    }

                case 0x81: // NEWOBJ
                    {
                        object? arguments = Pop();
                        object? type = Pop();
                        Push(NewObject(type, arguments));
                        break;
                    }

                case 0x92: // NEWOBJ_EX
                    {
                        Pop(); // keyword arguments: recorded nowhere, the object is inert anyway.
                        object? arguments = Pop();
                        object? type = Pop();
                        Push(NewObject(type, arguments));
                        break;
                    }

                case (byte)'b': // BUILD
                    {
                        object? state = Pop();
                        Build(Peek(), state);
                        break;
                    }

                case (byte)'Q': // BINPERSID
                    Push(_persistentLoad(Pop()));
                    break;
                case (byte)'P': // PERSID (text)
                    Push(_persistentLoad(ReadLine()));
                    break;
                default:
                    throw Bad($"opcode 0x{opcode:x2} is not supported");
            }
        }
    }

    private int Fence => _marks.Count == 0 ? 0 : _marks[^1];

    private void Push(object? value)
    {
        if (_stack.Count == MaxStackDepth)
        {
            throw Bad($"stack deeper than {MaxStackDepth}");
        }

        _stack.Add(value);
    }

    private object? Pop()
    {
        if (_stack.Count <= Fence)
        {
            throw Bad("stack underflow");
        }

        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek() => _stack.Count > Fence ? _stack[^1] : throw Bad("stack underflow");

    private object?[] PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Bad("no MARK to pop to");
        }

        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        object?[] items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? MemoGet(long index) =>
        _memo.TryGetValue(index, out object? value) ? value : throw Bad($"memo entry {index} was never stored");

    private void MemoPut(long index)
    {
        object? value = Peek();
        if (!_memo.ContainsKey(index) && _memo.Count == MaxMemoEntries)
        {
            throw Bad($"more than {MaxMemoEntries} memo entries");
        }

        _memo[index] = value;
    }

    private PickleGlobal ResolveGlobal(string module, string name) =>
        PickleGlobals.Resolve(module, name) ?? throw Bad($"refuses global '{Shorten(module)}.{Shorten(name)}', which is not a torch tensor or container type");

    private object? Reduce(object? callable, object? arguments)
    {
        if (callable is not PickleGlobal global || arguments is not object?[] args)
        {
            throw Bad("REDUCE of something other than an allow-listed global and an argument tuple");
        }

        switch (global.Kind)
        {
            case PickleGlobalKind.RebuildTensor:
                // (storage, storage_offset, size, stride, ...): only the storage and the view's geometry matter.
                if (args.Length < 4 || args[0] is not TorchStorageRef storage || args[1] is not long offset || offset < 0 || args[2] is not object?[] size)
                {
                    throw Bad($"{global} arguments are not (storage, offset, size, stride, ...)");
                }

                return new TorchTensorRef(storage, offset, ToShape(size, global));
            case PickleGlobalKind.RebuildParameter:
                return args.Length >= 1 && args[0] is TorchTensorRef tensor ? tensor : throw Bad($"{global} is not given a tensor");
            case PickleGlobalKind.RebuildFromType:
                // (func, type, args, state): a tensor subclass or a tensor with Python attributes; only func(*args) matters.
                if (args.Length != 4 || args[0] is not PickleGlobal { Kind: PickleGlobalKind.RebuildTensor or PickleGlobalKind.RebuildParameter } inner)
                {
                    throw Bad($"{global} arguments are not (rebuild function, type, arguments, state)");
                }

                return Reduce(inner, args[2]);
            case PickleGlobalKind.OrderedDict:
                return args.Length == 0 ? new PickleDict() : throw Bad($"{global} is given arguments");
            case PickleGlobalKind.Inert:
                return new PickleInertObject(global, args);
            default:
                throw Bad($"{global} is not callable");
        }
    }

    private PickleInertObject NewObject(object? type, object? arguments)
    {
        if (type is not PickleGlobal { Kind: PickleGlobalKind.Inert } global || arguments is not object?[] args)
        {
            throw Bad("NEWOBJ of something other than an allow-listed class and an argument tuple");
        }

        return new PickleInertObject(global, args);
    }

    private void Build(object? target, object? state)
    {
        switch (target)
        {
            case PickleInertObject inert:
                inert.State = state;
                break;
            case TorchTensorRef:
                // Tensor subclasses' __setstate__ carries Python attributes, not data.
                break;
            default:
                throw Bad("BUILD on an object that has no state");
        }
    }

    private void AppendTo(object? target, object?[] items)
    {
        switch (target)
        {
            case List<object?> list:
                if (checked(list.Count + items.Length) > MaxStackDepth)
                {
                    throw Bad($"a list grows past {MaxStackDepth} items");
                }

                list.AddRange(items);
                break;
            case PickleInertObject:
                break;
            default:
                throw Bad("APPEND to something that is not a list");
        }
    }

    private void SetItems(object? target, object?[] items)
    {
        if (items.Length % 2 != 0)
        {
            throw Bad("SETITEMS with an odd number of items");
        }

        switch (target)
        {
            case PickleDict dict:
                AddPairs(dict, items);
                break;
            case PickleInertObject:
                break;
            default:
                throw Bad("SETITEM on something that is not a dict");
        }
    }

    private void AddPairs(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0)
        {
            throw Bad("DICT with an odd number of items");
        }

        if (checked(dict.Items.Count + (items.Length / 2)) > MaxStackDepth)
        {
            throw Bad($"a dict grows past {MaxStackDepth} items");
        }

        for (int i = 0; i < items.Length; i += 2)
        {
            dict.Items.Add(new KeyValuePair<object?, object?>(items[i], items[i + 1]));
        }
    }

    private long[] ToShape(object?[] size, PickleGlobal global)
    {
        long[] shape = new long[size.Length];
        for (int i = 0; i < size.Length; i++)
        {
            shape[i] = size[i] is long dim && dim >= 0 ? dim : throw Bad($"{global} size holds something other than a non-negative integer");
        }

        return shape;
    }

    private object ReadLong(int length)
    {
        if (length > MaxLongBytes)
        {
            throw Bad($"a {length}-byte integer exceeds the {MaxLongBytes}-byte limit");
        }

        ReadOnlySpan<byte> bytes = ReadBytes(length);
        if (length <= 8)
        {
            // Little-endian two's complement: sign-extend from the top byte.
            long value = length > 0 && (sbyte)bytes[^1] < 0 ? -1L : 0L;
            for (int i = length - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            return value;
        }

        return new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    }

    private long ParseIndex(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long index) ? index : throw Bad($"memo index '{Shorten(text)}' is not a number");

    private byte ReadByte() => ReadBytes(1)[0];

    private int ReadLength(int width)
    {
        ReadOnlySpan<byte> bytes = ReadBytes(width);
        ulong length = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (length > (ulong)(_end - _position))
        {
            throw Truncated($"declares {length} bytes but only {_end - _position} remain");
        }

        return (int)length;
    }

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count > _end - _position)
        {
            throw Truncated($"needs {count} bytes but only {_end - _position} remain");
        }

        ReadOnlySpan<byte> bytes = _data.AsSpan(_position, count);
        _position += count;
        return bytes;
    }

    private string ReadLine()
    {
        int limit = Math.Min(_end - _position, MaxLineLength);
        int newline = _data.AsSpan(_position, limit).IndexOf((byte)'\n');
        if (newline < 0)
        {
            throw limit == MaxLineLength ? Bad($"text argument longer than {MaxLineLength} bytes") : Truncated("text argument has no end of line");
        }

        string line = Encoding.UTF8.GetString(_data, _position, newline);
        _position += newline + 1;
        return line;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 80), "…");

    private WaferDataException Bad(string problem) =>
        new($"{_path}: unsupported or malformed pickle {_what}: {problem} (opcode at byte {_opcodeOffset}).");

    private PickleTruncatedException Truncated(string problem) =>
        new($"{_path}: pickle {_what} is truncated: {problem} (opcode at byte {_opcodeOffset}).");
}
