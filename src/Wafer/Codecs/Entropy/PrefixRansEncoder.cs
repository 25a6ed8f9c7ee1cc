using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Encodes 16- or 32-bit values whose rANS symbol is a bit field of the value itself (float-split's prefix: exponent
/// and top mantissa bits) into a <see cref="Rans.WideLanes"/>-state stream, whole rounds of 32 values at a time, from
/// the last round down. Parameters are looked up by prefix, so no symbol pass is needed. A scalar reference (plain
/// division) and an AVX2 path (four vectors of eight states, gathered 64-bit entries, a reciprocal multiply with one
/// correction step, words compacted by a permutation) produce the same bytes; tests compare them. The same vector
/// step on one vector encodes the rounds of eight of a <see cref="Rans.NarrowLanes"/>-state stream.
/// </summary>
internal static unsafe class PrefixRansEncoder
{
    /// <summary>Room a round needs below the write position (64 bytes of words plus a 16-byte vector store).</summary>
    private const int RoundRoom = 80;

    /// <summary>
    /// Room a narrow round needs below the write position (more than its 16-byte store). float-split's scalar narrow
    /// loop asks the same before each group of eight, so both give up at the same area sizes.
    /// </summary>
    public const int NarrowRoundRoom = 18;

    private const int FreqBits = 13;

    /// <summary>Per 8-bit mask of lanes emitting a word: the lane whose word goes to each of the eight slots, set lanes in the top slots.</summary>
    private static readonly int[] s_compaction = BuildCompaction();

    /// <summary><see cref="s_compaction"/>'s address: it was allocated pinned, so it never moves.</summary>
    private static readonly int* s_compactionPointer = (int*)Unsafe.AsPointer(ref s_compaction[0]);

    /// <summary>Packs a prefix's frequency (1..4096) and start for <see cref="EncodeRounds"/>.</summary>
    public static uint Pack(int freq, int start) => (uint)freq | ((uint)start << FreqBits) | ((uint)Log2(freq) << 25);

    /// <summary>floor(2^(32 + floor(log2 f)) / f), at most 2^32 - 1: the multiplier for <c>x / f</c> with one correction step.</summary>
    public static uint Reciprocal(int freq) => (uint)Math.Min(uint.MaxValue, (1UL << (32 + Log2(freq))) / (ulong)freq);

    /// <summary>A prefix's table entry: <see cref="Pack"/> in the low half, <see cref="Reciprocal"/> in the high half.</summary>
    public static ulong Entry(int freq, int start) => Pack(freq, start) | ((ulong)Reciprocal(freq) << 32);

    /// <summary>The entry of a codable symbol from its scalar coding parameters (frequency 4096 - complement, its start).</summary>
    public static ulong Entry(in RansEncodeSymbol symbol) => Entry(Rans.Total - (int)symbol.Complement, (int)symbol.Bias);

    /// <summary>Whether <see cref="EncodeNarrowRoundsAvx2(ushort*, int, int, int, ulong*, uint*, byte*, byte*)"/> can run here.</summary>
    public static bool HasNarrowRounds => Avx2.IsSupported && BitConverter.IsLittleEndian;

    /// <summary>
    /// Encodes values <c>[0, 32 * rounds)</c> of <paramref name="source"/> (little-endian), last first, into the
    /// 32 <paramref name="states"/>, writing words downwards from <paramref name="p"/>.
    /// </summary>
    /// <returns>The new write position, or null when fewer than 80 bytes remained above <paramref name="areaStart"/> before a round.</returns>
    public static byte* EncodeRounds(ushort* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        Avx2.IsSupported && BitConverter.IsLittleEndian
            ? EncodeRoundsAvx2(source, rounds, prefixShift, prefixMask, entries, states, p, areaStart)
            : EncodeRoundsScalar(source, rounds, prefixShift, prefixMask, entries, states, p, areaStart);

    /// <summary><see cref="EncodeRounds(ushort*, int, int, int, ulong*, uint*, byte*, byte*)"/> for 32-bit values (F32).</summary>
    public static byte* EncodeRounds(uint* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        Avx2.IsSupported && BitConverter.IsLittleEndian
            ? EncodeRoundsAvx2<Values32>((byte*)source, rounds, prefixShift, prefixMask, entries, states, p, areaStart, 32 - Rans.ScaleBits)
            : EncodeRoundsScalar<Values32>((byte*)source, rounds, prefixShift, prefixMask, entries, states, p, areaStart);

    /// <summary>Scalar reference of <see cref="EncodeRounds(ushort*, int, int, int, ulong*, uint*, byte*, byte*)"/> (true division; reads only the low halves of the entries).</summary>
    public static byte* EncodeRoundsScalar(ushort* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        EncodeRoundsScalar<Values16>((byte*)source, rounds, prefixShift, prefixMask, entries, states, p, areaStart);

    /// <summary>AVX2 path of <see cref="EncodeRounds(ushort*, int, int, int, ulong*, uint*, byte*, byte*)"/>.</summary>
    public static byte* EncodeRoundsAvx2(ushort* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        EncodeRoundsAvx2<Values16>((byte*)source, rounds, prefixShift, prefixMask, entries, states, p, areaStart, 32 - Rans.ScaleBits);

    /// <summary>
    /// <see cref="EncodeRoundsAvx2(ushort*, int, int, int, ulong*, uint*, byte*, byte*)"/> for a coder whose
    /// states stay below 2^31 (lower bound 2^15, as the delta token coder's): a state sheds a word from <c>f × 2^19</c>
    /// instead of <c>f × 2^20</c>. Each value of <paramref name="symbols"/> is its own symbol (the table index).
    /// </summary>
    public static byte* EncodeSymbolRounds31Avx2(ushort* symbols, int rounds, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        EncodeRoundsAvx2<Values16>((byte*)symbols, rounds, 0, 0xFFFF, entries, states, p, areaStart, 31 - Rans.ScaleBits);

    /// <summary>
    /// Encodes values <c>[0, 8 * rounds)</c> of <paramref name="source"/> into the <see cref="Rans.NarrowLanes"/>
    /// <paramref name="states"/> of a short stream (value <c>i</c> on state <c>i mod 8</c>), last first, one vector
    /// step a round: the words and states are those of eight scalar steps per round from the last value down.
    /// </summary>
    /// <returns>The new write position, or null when fewer than 18 bytes remained above <paramref name="areaStart"/> before a round.</returns>
    public static byte* EncodeNarrowRoundsAvx2(ushort* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        EncodeNarrowRoundsAvx2<Values16>((byte*)source, rounds, prefixShift, prefixMask, entries, states, p, areaStart);

    /// <summary><see cref="EncodeNarrowRoundsAvx2(ushort*, int, int, int, ulong*, uint*, byte*, byte*)"/> for 32-bit values (F32).</summary>
    public static byte* EncodeNarrowRoundsAvx2(uint* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart) =>
        EncodeNarrowRoundsAvx2<Values32>((byte*)source, rounds, prefixShift, prefixMask, entries, states, p, areaStart);

    /// <summary>The scalar reference, for values of <typeparamref name="TValues"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte* EncodeRoundsScalar<TValues>(byte* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart)
        where TValues : struct, IRoundValues
    {
        for (int i = (rounds * Rans.WideLanes) - 1; i >= 0; i--)
        {
            if ((i & (Rans.WideLanes - 1)) == Rans.WideLanes - 1 && p - areaStart < RoundRoom)
            {
                return null;
            }

            uint v = TValues.Load(source, i);
            uint parameters = (uint)entries[(v >> prefixShift) & (uint)prefixMask];
            uint f = parameters & ((1u << FreqBits) - 1);
            uint start = (parameters >> FreqBits) & (Rans.Total - 1);
            ref uint x = ref states[i & (Rans.WideLanes - 1)];
            if (x >= (ulong)f << (32 - Rans.ScaleBits))
            {
                p -= 2;
                BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(p, 2), (ushort)x);
                x >>= 16;
            }

            x = ((x / f) << Rans.ScaleBits) + (x % f) + start;
        }

        return p;
    }

    /// <summary>The AVX2 path, for values of <typeparamref name="TValues"/>; a state sheds a word from <c>f × 2^limitShift</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte* EncodeRoundsAvx2<TValues>(byte* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart, int limitShift)
        where TValues : struct, IRoundValues
    {
        // Read before the states are loaded: the class initialiser check is a call, across which the JIT would keep
        // every vector of the loop on the stack.
        int* compaction = s_compactionPointer;

        // The loop's constants, made once: the JIT would otherwise rebuild them in every step.
        var k = new StepConstants(prefixShift, prefixMask, limitShift);
        Vector256<uint> x0 = Avx.LoadVector256(states);
        Vector256<uint> x1 = Avx.LoadVector256(states + 8);
        Vector256<uint> x2 = Avx.LoadVector256(states + 16);
        Vector256<uint> x3 = Avx.LoadVector256(states + 24);
        for (int r = rounds - 1; r >= 0;)
        {
            nint room = (nint)(p - areaStart);
            if (room < RoundRoom)
            {
                return null;
            }

            for (nint end = r - RoundsWithRoom(room, RoundRoom, 64, r + 1); r > end; r--)
            {
                int round = r * Rans.WideLanes;
                x3 = Step<TValues>(x3, source, round + 24, entries, ref p, compaction, k);
                x2 = Step<TValues>(x2, source, round + 16, entries, ref p, compaction, k);
                x1 = Step<TValues>(x1, source, round + 8, entries, ref p, compaction, k);
                x0 = Step<TValues>(x0, source, round, entries, ref p, compaction, k);
            }
        }

        x0.Store(states);
        x1.Store(states + 8);
        x2.Store(states + 16);
        x3.Store(states + 24);
        return p;
    }

    /// <summary>The narrow AVX2 loop, for values of <typeparamref name="TValues"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte* EncodeNarrowRoundsAvx2<TValues>(byte* source, int rounds, int prefixShift, int prefixMask, ulong* entries, uint* states, byte* p, byte* areaStart)
        where TValues : struct, IRoundValues
    {
        int* compaction = s_compactionPointer;
        var k = new StepConstants(prefixShift, prefixMask, 32 - Rans.ScaleBits);
        Vector256<uint> x = Avx.LoadVector256(states);
        for (int r = rounds - 1; r >= 0;)
        {
            nint room = (nint)(p - areaStart);
            if (room < NarrowRoundRoom)
            {
                return null;
            }

            for (nint end = r - RoundsWithRoom(room, NarrowRoundRoom, 16, r + 1); r > end; r--)
            {
                x = Step<TValues>(x, source, r * Rans.NarrowLanes, entries, ref p, compaction, k);
            }
        }

        x.Store(states);
        return p;
    }

    /// <summary>Encodes eight values into eight states: emits their words (lane order, below <paramref name="p"/>), then divides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Step<TValues>(Vector256<uint> x, byte* source, int index, ulong* entries, ref byte* p, int* compaction, StepConstants k)
        where TValues : struct, IRoundValues
    {
        Vector256<int> prefix = (Avx2.ShiftRightLogical(TValues.Load8(source, index), k.PrefixShift) & k.PrefixMask).AsInt32();

        // One 64-bit entry (parameters, reciprocal) per lane: lanes 0, 1, 4, 5 from the first gather and 2, 3, 6, 7 from the
        // second, so that in-lane shuffles and unpacks put the two halves back in lane order.
        Vector256<int> order = Avx2.Permute4x64(prefix.AsInt64(), 0b11_01_10_00).AsInt32();
        Vector256<uint> first = Avx2.Shuffle(Avx2.GatherVector256(entries, order.GetLower(), 8).AsUInt32(), 0b11_01_10_00);
        Vector256<uint> second = Avx2.Shuffle(Avx2.GatherVector256(entries, order.GetUpper(), 8).AsUInt32(), 0b11_01_10_00);
        Vector256<uint> parameters = Avx2.UnpackLow(first.AsUInt64(), second.AsUInt64()).AsUInt32();
        Vector256<uint> m = Avx2.UnpackHigh(first.AsUInt64(), second.AsUInt64()).AsUInt32();
        Vector256<uint> f = parameters & k.FreqMask;
        Vector256<uint> start = (parameters >>> FreqBits) & k.StartMask;
        Vector256<uint> shift = parameters >>> 25;

        // Emit when x >= f << limitShift, i.e. when x >> limitShift (below 2^13) exceeds f - 1: a signed compare suffices.
        Vector256<uint> fLess = f - Vector256<uint>.One;
        Vector256<uint> emit = Avx2.CompareGreaterThan(Avx2.ShiftRightLogical(x, k.LimitShift).AsInt32(), fLess.AsInt32()).AsUInt32();
        uint mask = emit.ExtractMostSignificantBits();
        int count = BitOperations.PopCount(mask);
        Vector256<uint> words = Avx2.PermuteVar8x32(x & k.WordMask, Avx.LoadVector256(compaction + (mask * 8)).AsUInt32());
        Vector128<ushort> narrow = Avx512F.VL.IsSupported ? Avx512F.VL.ConvertToVector128UInt16(words) : Vector256.Narrow(words, words).GetLower();
        narrow.Store((ushort*)(p - 16));
        p -= count * 2;
        x = Vector256.ConditionalSelect(emit, x >>> 16, x);

        // q = floor(x / f): the high half of x * m, shifted by floor(log2 f), is q or q - 1.
        Vector256<ulong> even = Avx2.Multiply(x, m);
        Vector256<ulong> odd = Avx2.Multiply((x.AsUInt64() >>> 32).AsUInt32(), (m.AsUInt64() >>> 32).AsUInt32());
        Vector256<uint> high = Avx2.Blend((even >>> 32).AsUInt32(), odd.AsUInt32(), 0b1010_1010);
        Vector256<uint> q = Avx2.ShiftRightLogicalVariable(high, shift);
        Vector256<uint> rest = x - Avx2.MultiplyLow(q, f);
        Vector256<uint> over = Avx2.CompareGreaterThan(rest.AsInt32(), fLess.AsInt32()).AsUInt32();
        q -= over;
        rest -= f & over;
        return (q << Rans.ScaleBits) + rest + start;
    }

    /// <summary>
    /// How many of the <paramref name="left"/> rounds can run unchecked from <paramref name="room"/> bytes (at least
    /// <paramref name="roundRoom"/>): each lowers the write position by at most <paramref name="roundBytes"/>, so every
    /// one of them still starts with <paramref name="roundRoom"/> left.
    /// </summary>
    private static nint RoundsWithRoom(nint room, int roundRoom, int roundBytes, nint left) => Math.Min(left, ((room - roundRoom) / roundBytes) + 1);

    private static int Log2(int freq) => BitOperations.Log2((uint)freq);

    /// <summary>The AVX2 loop's constants.</summary>
    private readonly struct StepConstants(int prefixShift, int prefixMask, int limitShift)
    {
        public readonly Vector128<uint> PrefixShift = Vector128.CreateScalar((uint)prefixShift);
        public readonly Vector256<uint> PrefixMask = Vector256.Create((uint)prefixMask);
        public readonly Vector128<uint> LimitShift = Vector128.CreateScalar((uint)limitShift);
        public readonly Vector256<uint> FreqMask = Vector256.Create((1u << FreqBits) - 1);
        public readonly Vector256<uint> StartMask = Vector256.Create((uint)(Rans.Total - 1));
        public readonly Vector256<uint> WordMask = Vector256.Create(0xFFFFu);
    }

    private static int[] BuildCompaction()
    {
        int[] table = GC.AllocateArray<int>(256 * 8, pinned: true);
        for (int mask = 0; mask < 256; mask++)
        {
            int slot = 8 - BitOperations.PopCount((uint)mask);
            for (int lane = 0; lane < 8; lane++)
            {
                if ((mask >> lane & 1) != 0)
                {
                    table[(mask * 8) + slot++] = lane;
                }
            }
        }

        return table;
    }
}
