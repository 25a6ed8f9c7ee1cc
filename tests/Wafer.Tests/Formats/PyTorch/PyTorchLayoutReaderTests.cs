using System.IO.Compression;
using System.Text;
using Wafer.Formats.PyTorch;
using Wafer.Layout;

namespace Wafer.Tests.Formats.PyTorch;

public sealed class PyTorchLayoutReaderTests
{
    private static readonly PyTorchLayoutReader s_reader = new();

    /// <summary>
    /// OrderedDict {w: bf16 (2, 3) over storage "0", b: f32 (4,) over storage "1", v: a (3,) view of storage "0"
    /// at offset 3}, as protocol 2 opcodes in the order torch's pickler emits them.
    /// </summary>
    internal static byte[] StateDictPickle()
    {
        var p = new PickleWriter().Proto(2);
        p.Global("collections", "OrderedDict").BinPut(0).EmptyTuple().Reduce().BinPut(1);
        p.Mark();
        p.BinUnicode("w").Tensor("BFloat16Storage", "0", 6, 0, [2, 3], [3, 1]);
        p.BinUnicode("b").Tensor("FloatStorage", "1", 4, 0, [4], [1]);
        p.BinUnicode("v").Tensor("BFloat16Storage", "0", 6, 3, [3], [1]);
        p.SetItems();
        return p.Stop().ToArray();
    }

    internal static (string, byte[])[] StateDictMembers(byte[] pickle) =>
    [
        ("archive/data.pkl", pickle),
        ("archive/data/0", TorchZipWriter.Counting(6, 2, 0x10)),
        ("archive/data/1", TorchZipWriter.Counting(4, 4, 0x40)),
        ("archive/version", "3\n"u8.ToArray()),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Zip_state_dict_splits_into_named_storages_at_their_member_data(bool zip64)
    {
        byte[] file = TorchZipWriter.Write(StateDictMembers(StateDictPickle()), zip64, out long[] data);

        FileLayout layout = LayoutTestFile.Read(s_reader, file, "pytorch_model.bin");

        Assert.Equal("pytorch", layout.Format);
        LayoutTestFile.AssertTiles(layout, file);
        Assert.Equal(0, data[1] % 64); // torch's FB padding puts every member's data on a 64-byte boundary
        LayoutSegment[] expected =
        [
            new(0, data[1], null),
            new(data[1], 12, null),
            new(data[1] + 12, data[2] - data[1] - 12, null),
            new(data[2], 16, null),
            new(data[2] + 16, file.Length - data[2] - 16, null),
        ];
        Assert.Equal(expected.Select(static s => (s.Offset, s.Length)), layout.Segments.Select(static s => (s.Offset, s.Length)));
        Assert.Null(layout.Segments[0].Tensor);
        AssertTensor(layout.Segments[1].Tensor, "w", "BF16", DType.BF16, 6);
        AssertTensor(layout.Segments[3].Tensor, "b", "F32", DType.F32, 4);
        Assert.Equal(TorchZipWriter.Counting(6, 2, 0x10), file.AsSpan((int)data[1], 12).ToArray());
    }

    [Fact]
    public void Zip_written_by_ZipArchive_with_stored_entries_is_split_too()
    {
        byte[] pickle = StateDictPickle();
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] bytes) in StateDictMembers(pickle))
            {
                using Stream entry = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(bytes);
            }
        }

        byte[] file = stream.ToArray();
        FileLayout layout = LayoutTestFile.Read(s_reader, file, "model.pt");

        LayoutTestFile.AssertTiles(layout, file);
        LayoutSegment[] tensors = [.. layout.Segments.Where(static s => s.Tensor is not null)];
        Assert.Equal(["w", "b"], tensors.Select(static s => s.Tensor!.Name));
        // Found independently of the reader: the storage bytes appear exactly where the segments say.
        Assert.Equal(file.AsSpan().IndexOf(TorchZipWriter.Counting(6, 2, 0x10)), tensors[0].Offset);
        Assert.Equal(file.AsSpan().IndexOf(TorchZipWriter.Counting(4, 4, 0x40)), tensors[1].Offset);
    }

    [Fact]
    public void Optimizer_state_tensors_are_named_by_their_dict_path()
    {
        var p = new PickleWriter().Proto(2);
        p.EmptyDict().Mark();
        p.BinUnicode("state").EmptyDict().BinInt1(3).EmptyDict().Mark();
        p.BinUnicode("step").Tensor("FloatStorage", "0", 1, 0, [], []);
        p.BinUnicode("exp_avg").Tensor("FloatStorage", "1", 4, 0, [4], [1]);
        p.SetItems().SetItem();
        p.BinUnicode("param_groups").EmptyList().EmptyDict().BinUnicode("lr").BinFloat(1e-3).SetItem().Append();
        p.SetItems();
        byte[] file = TorchZipWriter.Write(
            [("optimizer/data.pkl", p.Stop().ToArray()), ("optimizer/data/0", new byte[4]), ("optimizer/data/1", new byte[16])],
            zip64: false, out _);

        FileLayout layout = LayoutTestFile.Read(s_reader, file, "optimizer.pt");

        Assert.Equal(["state.3.step", "state.3.exp_avg"], layout.Segments.Where(static s => s.Tensor is not null).Select(static s => s.Tensor!.Name));
    }

    [Fact]
    public void Tensor_rebuilt_through_rebuild_from_type_v2_is_found()
    {
        // torch pickles a tensor that carries Python attributes as
        // _rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, (storage, offset, size, stride, ...), state).
        var p = new PickleWriter().Proto(2).EmptyDict().BinUnicode("t");
        p.Global("torch._tensor", "_rebuild_from_type_v2").Mark();
        p.Global("torch._utils", "_rebuild_tensor_v2").Global("torch", "Tensor");
        p.Mark().Mark().BinUnicode("storage").Global("torch", "HalfStorage").BinUnicode("0").BinUnicode("cpu").BinInt(2).Tuple().BinPersId();
        p.BinInt1(0).BinInt1(2).Tuple1().BinInt1(1).Tuple1().NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple();
        p.EmptyDict().Tuple().Reduce().SetItem();
        byte[] file = TorchZipWriter.Write([("archive/data.pkl", p.Stop().ToArray()), ("archive/data/0", new byte[4])], zip64: false, out long[] data);

        FileLayout layout = LayoutTestFile.Read(s_reader, file);

        LayoutSegment tensor = Assert.Single(layout.Segments, static s => s.Tensor is not null);
        Assert.Equal((data[1], 4L), (tensor.Offset, tensor.Length));
        AssertTensor(tensor.Tensor, "t", "F16", DType.F16, 2);
    }

    [Fact]
    public void Unreferenced_storage_members_and_zip_without_tensors_stay_verbatim()
    {
        byte[] pickle = new PickleWriter().Proto(2).EmptyDict().Stop().ToArray();
        byte[] file = TorchZipWriter.Write([("scheduler/data.pkl", pickle), ("scheduler/data/9", new byte[64])], zip64: false, out _);

        FileLayout layout = LayoutTestFile.Read(s_reader, file, "scheduler.pt");

        Assert.Equal("pytorch", layout.Format);
        Assert.All(layout.Segments, static s => Assert.Null(s.Tensor));
        LayoutTestFile.AssertTiles(layout, file);
    }

    /// <summary>
    /// A legacy checkpoint: pickles of the magic number, protocol version 1001, sys info and {a.weight: f32 (3,) over
    /// storage "11", a.bias: f16 (2,) over storage "7"}, the key list ["7", "11"], then per key an 8-byte element
    /// count and the raw bytes. <paramref name="halfCount"/> is the count written before storage "7".
    /// </summary>
    internal static byte[] LegacyFile(out int half, out int single, long halfCount = 2, string firstKey = "7")
    {
        var magic = new PickleWriter().Proto(2).Long1(0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).Stop();
        var version = new PickleWriter().Proto(2).BinInt2(1001).Stop();
        var info = new PickleWriter().Proto(2).EmptyDict().Mark()
            .BinUnicode("protocol_version").BinInt2(1001).BinUnicode("little_endian").NewTrue().SetItems().Stop();
        var obj = new PickleWriter().Proto(2).EmptyDict().Mark();
        foreach ((string name, string type, string key, int numel) in new[] { ("a.weight", "FloatStorage", "11", 3), ("a.bias", "HalfStorage", "7", 2) })
        {
            obj.BinUnicode(name).Global("torch._utils", "_rebuild_tensor_v2").Mark();
            obj.Mark().BinUnicode("storage").Global("torch", type).BinUnicode(key).BinUnicode("cpu").BinInt(numel).None().Tuple().BinPersId();
            obj.BinInt1(0).BinInt(numel).Tuple1().BinInt1(1).Tuple1().NewFalse().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce();
        }

        obj.SetItems().Stop();
        // torch writes the storages in the key list's order, which need not be the pickle's.
        var keys = new PickleWriter().Proto(2).Mark().BinUnicode(firstKey).BinUnicode("11").Raw((byte)'l').Stop();
        var file = new List<byte>();
        foreach (PickleWriter pickle in new[] { magic, version, info, obj, keys })
        {
            file.AddRange(pickle.ToArray());
        }

        half = file.Count + 8;
        file.AddRange(BitConverter.GetBytes(halfCount));
        file.AddRange(TorchZipWriter.Counting(2, 2, 0x30));
        single = file.Count + 8;
        file.AddRange(BitConverter.GetBytes(3L));
        file.AddRange(TorchZipWriter.Counting(3, 4, 0x50));
        return [.. file];
    }

    [Fact]
    public void Legacy_checkpoint_splits_storages_after_the_key_list()
    {
        byte[] bytes = LegacyFile(out int half, out int single);

        FileLayout layout = LayoutTestFile.Read(s_reader, bytes, "master_weights_legacy.pt");

        LayoutTestFile.AssertTiles(layout, bytes);
        Assert.Equal(
            [(0L, (long)half, (string?)null), (half, 4, "a.bias"), (half + 4, 8, null), (single, 12, "a.weight")],
            layout.Segments.Select(static s => (s.Offset, s.Length, s.Tensor?.Name)));
        AssertTensor(layout.Segments[1].Tensor, "a.bias", "F16", DType.F16, 2);
        AssertTensor(layout.Segments[3].Tensor, "a.weight", "F32", DType.F32, 3);
    }

    [Fact]
    public void Legacy_checkpoint_with_lying_counts_or_keys_is_refused()
    {
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, LegacyFile(out _, out _, halfCount: 3), "x.pt"));
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, LegacyFile(out _, out _, halfCount: 1L << 62), "x.pt"));
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, LegacyFile(out _, out _, firstKey: "8"), "x.pt"));
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, LegacyFile(out _, out _, firstKey: "11"), "x.pt"));
        byte[] wrongMagic = LegacyFile(out _, out _);
        wrongMagic[4] ^= 1;
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, wrongMagic, "x.pt"));
    }

    [Fact]
    public void Every_legacy_truncation_and_corruption_fails_cleanly()
    {
        byte[] file = LegacyFile(out _, out _);

        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(s_reader, LayoutTestFile.Truncations(file), "x.pt");
        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(s_reader, LayoutTestFile.ByteFlips(file, 0x01, 0xff), "x.pt");
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("__builtin__", "exec")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    public void Pickle_naming_a_dangerous_global_is_refused_and_kept_opaque(string module, string name)
    {
        string marker = Path.Combine(Path.GetTempPath(), "wafer-pwned-" + Guid.NewGuid().ToString("N"));
        byte[] pickle = new PickleWriter().Proto(2).Global(module, name).BinUnicode($"open('{marker}','w')").Tuple1().Reduce().Stop().ToArray();
        byte[] file = TorchZipWriter.Write([("archive/data.pkl", pickle)], zip64: false, out _);

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file, "evil.pt"));
        FileLayout detected = LayoutTestFile.Detect(file, "evil.pt");

        Assert.Contains($"{module}.{name}", error.Message, StringComparison.Ordinal);
        Assert.Equal("blob", detected.Format);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Stack_global_and_newobj_of_a_foreign_class_are_refused()
    {
        // Protocol 4 spelling: SHORT_BINUNICODE module, SHORT_BINUNICODE name, STACK_GLOBAL, then NEWOBJ.
        byte[] pickle = new PickleWriter().Proto(4)
            .Raw(0x8c, 8).Raw("__main__"u8.ToArray()).Raw(0x8c, 17).Raw("TrainingArguments"u8.ToArray()).Raw(0x93)
            .EmptyTuple().NewObj().EmptyDict().Build().Stop().ToArray();
        byte[] file = TorchZipWriter.Write([("training_args/data.pkl", pickle)], zip64: false, out _);

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file, "training_args.bin"));

        Assert.Contains("__main__.TrainingArguments", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 1 })] // EXT1: the extension registry
    [InlineData(new byte[] { (byte)'i' })] // INST
    [InlineData(new byte[] { (byte)'o' })] // OBJ
    [InlineData(new byte[] { 0x97 })] // NEXT_BUFFER
    [InlineData(new byte[] { 0xff })]
    [InlineData(new byte[] { (byte)'h', 5 })] // BINGET of a memo slot never stored
    [InlineData(new byte[] { (byte)'a' })] // APPEND on an empty stack
    [InlineData(new byte[] { (byte)'Q' })] // BINPERSID with no id
    public void Unsupported_or_malformed_opcodes_are_refused(byte[] body)
    {
        byte[] pickle = [.. new PickleWriter().Proto(2).ToArray(), .. body, (byte)'.'];
        byte[] file = TorchZipWriter.Write([("archive/data.pkl", pickle)], zip64: false, out _);

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Persistent_id_that_is_not_a_storage_tuple_is_refused()
    {
        byte[] pickle = new PickleWriter().Proto(2).BinUnicode("storage").Tuple1().BinPersId().Stop().ToArray();
        byte[] file = TorchZipWriter.Write([("archive/data.pkl", pickle)], zip64: false, out _);

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Stack_bomb_stops_at_the_depth_cap()
    {
        byte[] body = new byte[PickleMachine.MaxStackDepth + 10];
        body.AsSpan().Fill((byte)'2'); // DUP
        byte[] pickle = [.. new PickleWriter().Proto(2).None().ToArray(), .. body, (byte)'.'];
        byte[] file = TorchZipWriter.Write([("archive/data.pkl", pickle)], zip64: false, out _);

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));

        Assert.Contains("stack deeper", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_containers_do_not_overflow_the_namer()
    {
        // 100 000 empty lists, then APPENDs that nest each in the one below; the tensor sits innermost.
        const int depth = 100_000;
        var p = new PickleWriter().Proto(2);
        for (int i = 0; i < depth; i++)
        {
            p.EmptyList();
        }

        p.Tensor("FloatStorage", "0", 1, 0, [1], [1]);
        for (int i = 0; i < depth; i++)
        {
            p.Append();
        }

        byte[] file = TorchZipWriter.Write([("archive/data.pkl", p.Stop().ToArray()), ("archive/data/0", new byte[4])], zip64: false, out _);

        FileLayout layout = LayoutTestFile.Read(s_reader, file);

        Assert.Equal("storage/0", Assert.Single(layout.Segments, static s => s.Tensor is not null).Tensor!.Name);
    }

    [Fact]
    public void Megabyte_key_reused_at_every_level_leaves_the_fallback_name_without_building_huge_paths()
    {
        // One 1 MiB key stored in the memo, then 200 nested dicts each keyed by it: a naive dotted path would be 200 MiB.
        var p = new PickleWriter().Proto(2).BinUnicode(new string('k', 1 << 20)).BinPut(0).Raw((byte)'0');
        for (int i = 0; i < 200; i++)
        {
            p.EmptyDict().BinGet(0);
        }

        p.Tensor("FloatStorage", "0", 1, 0, [1], [1]);
        for (int i = 0; i < 200; i++)
        {
            p.SetItem();
        }

        byte[] file = TorchZipWriter.Write([("archive/data.pkl", p.Stop().ToArray()), ("archive/data/0", new byte[4])], zip64: false, out _);

        FileLayout layout = LayoutTestFile.Read(s_reader, file);

        Assert.Equal("storage/0", Assert.Single(layout.Segments, static s => s.Tensor is not null).Tensor!.Name);
    }

    [Fact]
    public void Oversized_global_names_and_storage_keys_are_refused()
    {
        string longName = new('x', 5000);
        byte[] stackGlobal = new PickleWriter().Proto(4).BinUnicode("torch").BinUnicode(longName).Raw(0x93).Stop().ToArray();
        var persistentId = new PickleWriter().Proto(2).Mark().BinUnicode("storage").Global("torch", "FloatStorage")
            .BinUnicode(longName).BinUnicode("cpu").BinInt(1).Tuple().BinPersId().Stop();

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, TorchZipWriter.Write([("a/data.pkl", stackGlobal)], false, out _)));
        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, TorchZipWriter.Write([("a/data.pkl", persistentId.ToArray())], false, out _)));
    }

    [Fact]
    public void Member_whose_size_runs_past_the_file_is_refused()
    {
        byte[] file = TorchZipWriter.Write(StateDictMembers(StateDictPickle()), zip64: false, out _);
        int directory = CentralDirectoryOffset(file);
        // Second central entry (archive/data/0): compressed and uncompressed sizes far past the end.
        int second = directory + 46 + "archive/data.pkl".Length;
        TorchZipWriter.WriteUInt32(file, second + 20, 0x7fff_0000);
        TorchZipWriter.WriteUInt32(file, second + 24, 0x7fff_0000);

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));

        Assert.Contains("archive/data/0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Central_directory_count_that_lies_is_refused()
    {
        byte[] file = TorchZipWriter.Write(StateDictMembers(StateDictPickle()), zip64: false, out _);
        file[^12] = 0xff; // total entries, low byte: now far more than the directory holds
        file[^14] = 0xff; // entries on this disk

        var error = Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));

        Assert.Contains("entries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_whose_member_size_disagrees_with_its_element_count_is_refused()
    {
        var members = StateDictMembers(StateDictPickle());
        members[2] = ("archive/data/1", new byte[12]); // F32 × 4 needs 16 bytes

        byte[] file = TorchZipWriter.Write(members, zip64: false, out _);

        Assert.Throws<WaferDataException>(() => LayoutTestFile.Read(s_reader, file));
    }

    [Fact]
    public void Zip64_member_past_four_gibibytes_is_located_by_its_64_bit_offset()
    {
        string directory = Path.Combine(Path.GetTempPath(), "wafer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "big.pt");
        try
        {
            long[] data;
            using (var stream = new FileStream(path, FileMode.CreateNew))
            {
                // A sparse hole of 5 GiB puts the last storage's local header and data past 2^32.
                data = TorchZipWriter.WriteTo(stream, StateDictMembers(StateDictPickle())[..3], zip64: true, gapBeforeLast: 5L << 30);
            }

            FileLayout layout = LayoutTestFile.ReadFile(s_reader, path);

            Assert.True(data[2] > uint.MaxValue);
            LayoutSegment last = layout.Segments.Last(static s => s.Tensor is not null);
            Assert.Equal((data[2], 16L, "b"), (last.Offset, last.Length, last.Tensor!.Name));
            Assert.Equal(new FileInfo(path).Length, layout.Segments.Sum(static s => s.Length));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Every_truncation_fails_cleanly()
    {
        byte[] file = TorchZipWriter.Write(StateDictMembers(StateDictPickle()), zip64: true, out _);

        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(s_reader, LayoutTestFile.Truncations(file));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_single_byte_corruption_parses_or_fails_cleanly(bool zip64)
    {
        byte[] file = TorchZipWriter.Write(StateDictMembers(StateDictPickle()), zip64, out _);

        LayoutTestFile.AssertEachVariantParsesOrFailsCleanly(s_reader, LayoutTestFile.ByteFlips(file, 0x01, 0xff));
    }

    [Fact]
    public void Claims_zip_magic_and_pickles_with_checkpoint_extensions_only()
    {
        Assert.True(s_reader.Claims("x.anything", "PK\x03\x04"u8, 100));
        Assert.True(s_reader.Claims("x.PT", [0x80, 0x02], 100));
        Assert.True(s_reader.Claims("dir/x.ckpt", [0x80, 0x02], 100));
        Assert.False(s_reader.Claims("x.pkl", [0x80, 0x02], 100));
        Assert.False(s_reader.Claims("x.bin", "GGUF"u8, 100));
    }

    private static int CentralDirectoryOffset(byte[] file) => BitConverter.ToInt32(file, file.Length - 6);

    private static void AssertTensor(TensorDescriptor? tensor, string name, string dtypeName, DType dtype, long elements)
    {
        Assert.NotNull(tensor);
        Assert.Equal(name, tensor.Name);
        Assert.Equal(dtypeName, tensor.DTypeName);
        Assert.Equal(dtype, tensor.DType);
        Assert.Equal([elements], tensor.Shape);
    }
}
