using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// Encodes 16-bit values whose rANS symbol is a bit field of the value itself (float-split's prefix: exponent and
/// top mantissa bits) into a <see cref="Rans.WideLanes"/>-state stream, whole rounds of 32 values at a time, from
/// the last round down. Parameters are looked up by prefix, so no symbol pass is needed. A scalar reference (plain
/// division) and an AVX2 path (four vectors of eight states, gathered parameters, a reciprocal multiply with one
/// correction step, words compacted by a permutation) produce the same bytes; tests compare them.
/// </summary>
internal static unsafe class PrefixRansEncoder
{
    /// <summary>Room a round needs below the write position (64 bytes of words plus a 16-byte vector store).</summary>
    private const int RoundRoom = 80;

    private const int FreqBits = 13;

    /// <summary>Per 8-bit mask of lanes emitting a word: the lane whose word goes to each of the eight slots, set lanes in the top slots.</summary>
    private static readonly int[] s_compaction = BuildCompaction();

    /// <summary>Packs a prefix's frequency (1..4096) and start for <see cref="EncodeRounds"/>.</summary>
    public static uint Pack(int freq, int start) => (uint)freq | ((uint)start << FreqBits) | ((uint)Log2(freq) << 25);

    /// <summary>floor(2^(32 + floor(log2 f)) / f), at most 2^32 - 1: the multiplier for <c>x / f</c> with one correction step.</summary>
    public static uint Reciprocal(int freq) => (uint)Math.Min(uint.MaxValue, (1UL << (32 + Log2(freq))) / (ulong)freq);

    /// <summary>
    /// Encodes values <c>[0, 32 * rounds)</c> of <paramref name="source"/> (little-endian), last first, into the
    /// 32 <paramref name="states"/>, writing words downwards from <paramref name="p"/>.
    /// </summary>
    /// <returns>The new write position, or null when fewer than 80 bytes remained above <paramref name="areaStart"/> before a round.</returns>
    public static byte* EncodeRounds(ushort* source, int rounds, int prefixShift, int prefixMask, uint* packed, uint* reciprocal, uint* states, byte* p, byte* areaStart) =>
        Avx2.IsSupported && BitConverter.IsLittleEndian
            ? EncodeRoundsAvx2(source, rounds, prefixShift, prefixMask, packed, reciprocal, states, p, areaStart)
            : EncodeRoundsScalar(source, rounds, prefixShift, prefixMask, packed, states, p, areaStart);

    /// <summary><see cref="EncodeRounds(ushort*, int, int, int, uint*, uint*, uint*, byte*, byte*)"/> for 32-bit values (F32).</summary>
    public static byte* EncodeRounds(uint* source, int rounds, int prefixShift, int prefixMask, uint* packed, uint* reciprocal, uint* states, byte* p, byte* areaStart) =>
        Avx2.IsSupported && BitConverter.IsLittleEndian
            ? EncodeRoundsAvx2<Values32>((byte*)source, rounds, prefixShift, prefixMask, packed, reciprocal, states, p, areaStart, 32 - Rans.ScaleBits)
            : EncodeRoundsScalar<Values32>((byte*)source, rounds, prefixShift, prefixMask, packed, states, p, areaStart);

    /// <summary>Scalar reference of <see cref="EncodeRounds(ushort*, int, int, int, uint*, uint*, uint*, byte*, byte*)"/> (true division; needs no reciprocals).</summary>
    public static byte* EncodeRoundsScalar(ushort* source, int rounds, int prefixShift, int prefixMask, uint* packed, uint* states, byte* p, byte* areaStart) =>
        EncodeRoundsScalar<Values16>((byte*)source, rounds, prefixShift, prefixMask, packed, states, p, areaStart);

    /// <summary>AVX2 path of <see cref="EncodeRounds(ushort*, int, int, int, uint*, uint*, uint*, byte*, byte*)"/>.</summary>
    public static byte* EncodeRoundsAvx2(ushort* source, int rounds, int prefixShift, int prefixMask, uint* packed, uint* reciprocal, uint* states, byte* p, byte* areaStart) =>
        EncodeRoundsAvx2<Values16>((byte*)source, rounds, prefixShift, prefixMask, packed, reciprocal, states, p, areaStart, 32 - Rans.ScaleBits);

    /// <summary>
    /// <see cref="EncodeRoundsAvx2(ushort*, int, int, int, uint*, uint*, uint*, byte*, byte*)"/> for a coder whose
    /// states stay below 2^31 (lower bound 2^15, as the delta token coder's): a state sheds a word from <c>f × 2^19</c>
    /// instead of <c>f × 2^20</c>. Each value of <paramref name="symbols"/> is its own symbol (the table index).
    /// </summary>
    public static byte* EncodeSymbolRounds31Avx2(ushort* symbols, int rounds, uint* packed, uint* reciprocal, uint* states, byte* p, byte* areaStart) =>
        EncodeRoundsAvx2<Values16>((byte*)symbols, rounds, 0, 0xFFFF, packed, reciprocal, states, p, areaStart, 31 - Rans.ScaleBits);

    /// <summary>The scalar reference, for values of <typeparamref name="TValues"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte* EncodeRoundsScalar<TValues>(byte* source, int rounds, int prefixShift, int prefixMask, uint* packed, uint* states, byte* p, byte* areaStart)
        where TValues : struct, IRoundValues
    {
        for (int i = (rounds * Rans.WideLanes) - 1; i >= 0; i--)
        {
            if ((i & (Rans.WideLanes - 1)) == Rans.WideLanes - 1 && p - areaStart < RoundRoom)
            {
                return null;
            }

            uint v = TValues.Load(source, i);
            uint parameters = packed[(v >> prefixShift) & (uint)prefixMask];
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
    public static byte* EncodeRoundsAvx2<TValues>(byte* source, int rounds, int prefixShift, int prefixMask, uint* packed, uint* reciprocal, uint* states, byte* p, byte* areaStart, int limitShift)
        where TValues : struct, IRoundValues
    {
        Vector256<uint> x0 = Avx.LoadVector256(states);
        Vector256<uint> x1 = Avx.LoadVector256(states + 8);
        Vector256<uint> x2 = Avx.LoadVector256(states + 16);
        Vector256<uint> x3 = Avx.LoadVector256(states + 24);
        fixed (int* compaction = s_compaction)
        {
            for (int r = rounds - 1; r >= 0; r--)
            {
                if (p - areaStart < RoundRoom)
                {
                    return null;
                }

                int round = r * Rans.WideLanes;
                x3 = Step<TValues>(x3, source, round + 24, prefixShift, prefixMask, packed, reciprocal, ref p, compaction, limitShift);
                x2 = Step<TValues>(x2, source, round + 16, prefixShift, prefixMask, packed, reciprocal, ref p, compaction, limitShift);
                x1 = Step<TValues>(x1, source, round + 8, prefixShift, prefixMask, packed, reciprocal, ref p, compaction, limitShift);
                x0 = Step<TValues>(x0, source, round, prefixShift, prefixMask, packed, reciprocal, ref p, compaction, limitShift);
            }
        }

        x0.Store(states);
        x1.Store(states + 8);
        x2.Store(states + 16);
        x3.Store(states + 24);
        return p;
    }

    /// <summary>Encodes eight values into eight states: emits their words (lane order, below <paramref name="p"/>), then divides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Step<TValues>(Vector256<uint> x, byte* source, int index, int prefixShift, int prefixMask, uint* packed, uint* reciprocal, ref byte* p, int* compaction, int limitShift)
        where TValues : struct, IRoundValues
    {
        Vector256<int> prefix = ((TValues.Load8(source, index) >>> prefixShift) & Vector256.Create((uint)prefixMask)).AsInt32();
        Vector256<uint> parameters = Avx2.GatherVector256(packed, prefix, 4);
        Vector256<uint> m = Avx2.GatherVector256(reciprocal, prefix, 4);
        Vector256<uint> f = parameters & Vector256.Create((1u << FreqBits) - 1);
        Vector256<uint> start = (parameters >>> FreqBits) & Vector256.Create((uint)(Rans.Total - 1));
        Vector256<uint> shift = parameters >>> 25;

        // Emit when x >= f << limitShift, i.e. x > ((f - 1) << limitShift) | (2^limitShift - 1) (no overflow at f = 4096); unsigned compare.
        Vector256<uint> bias = Vector256.Create(0x8000_0000u);
        Vector256<uint> limit = ((f - Vector256<uint>.One) << limitShift) | Vector256.Create((1u << limitShift) - 1);
        Vector256<uint> emit = Avx2.CompareGreaterThan((x ^ bias).AsInt32(), (limit ^ bias).AsInt32()).AsUInt32();
        uint mask = emit.ExtractMostSignificantBits();
        int count = BitOperations.PopCount(mask);
        Vector256<uint> words = Avx2.PermuteVar8x32(x & Vector256.Create(0xFFFFu), Avx.LoadVector256(compaction + (mask * 8)).AsUInt32());
        Vector256.Narrow(words, words).GetLower().Store((ushort*)(p - 16));
        p -= count * 2;
        x = Vector256.ConditionalSelect(emit, x >>> 16, x);

        // q = floor(x / f): the high half of x * m, shifted by floor(log2 f), is q or q - 1.
        Vector256<ulong> even = Avx2.Multiply(x, m);
        Vector256<ulong> odd = Avx2.Multiply((x.AsUInt64() >>> 32).AsUInt32(), (m.AsUInt64() >>> 32).AsUInt32());
        Vector256<uint> high = Avx2.Blend((even >>> 32).AsUInt32(), odd.AsUInt32(), 0b1010_1010);
        Vector256<uint> q = Avx2.ShiftRightLogicalVariable(high, shift);
        Vector256<uint> rest = x - Avx2.MultiplyLow(q, f);
        Vector256<uint> over = Avx2.CompareGreaterThan(rest.AsInt32(), (f - Vector256<uint>.One).AsInt32()).AsUInt32();
        q -= over;
        rest -= f & over;
        return (q << Rans.ScaleBits) + rest + start;
    }

    private static int Log2(int freq) => BitOperations.Log2((uint)freq);

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
