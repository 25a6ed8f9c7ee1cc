using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wafer.Codecs.Entropy;

/// <summary>
/// The hot loop of every rANS stream whose symbols' tables are known before decoding (one table for the stream, or
/// one named per symbol): all interleaved states decode one symbol each per step. It stops before a step could read
/// past <c>safeEnd + Lookahead</c>; the caller finishes with checked steps.
/// </summary>
/// <remarks>
/// A step's renormalisation words are read in lane order, so each lane's word offset is the number of lanes
/// before it that needed a word. The scalar loops add up those refill flags with arithmetic (no branches, no lane
/// waiting on another's decode): eight-state streams with their states in locals, 32-state streams one state at a
/// time. The AVX2 loop keeps 32 states in four vectors, gathers their table entries and places the words with a
/// permutation chosen by the mask of lanes that need one. Four independent vectors are
/// what make the vector loop pay: with one (eight states) the gather's latency sits on the only dependency
/// chain and it ran at 0.7× the scalar loop; with four it runs at about 2.7×.
/// </remarks>
internal static unsafe class InterleavedRansDecoder
{
    /// <summary>Bytes a step may read ahead of the stream position: the caller passes <c>length - Lookahead</c>.</summary>
    public const int Lookahead = 64;

    private const uint SlotMask = Rans.Total - 1;

    /// <summary>Per 8-bit mask of lanes needing a word: for each such lane, the index of its word among the eight loaded.</summary>
    private static readonly int[] s_wordPermutation = BuildWordPermutation();

    /// <summary>
    /// The word-placement permutations (8 per mask), shared with the other AVX2 rANS decoders: lane j of the 8-bit
    /// mask's row is the index among eight loaded words of the word lane j takes. The table was allocated pinned, so
    /// its address never changes. (Read it before a loop's vectors are loaded: the class initialiser check is a call,
    /// across which the JIT would keep those vectors on the stack.)
    /// </summary>
    public static int* WordPermutation { get; } = (int*)Unsafe.AsPointer(ref s_wordPermutation[0]);

    /// <summary>
    /// Decodes whole steps (one symbol per state, <c>x.Length</c> of 8 or 32) into <paramref name="symbols"/> (at
    /// most <paramref name="count"/>) while <c>position &lt;= safeEnd</c>.
    /// </summary>
    /// <returns>Symbols decoded, a multiple of <c>x.Length</c>.</returns>
    public static int Decode(Span<uint> x, uint* t, byte* s, ref nint position, nint safeEnd, byte* symbols, int count) =>
        x.Length == Rans.WideLanes && Avx2.IsSupported && BitConverter.IsLittleEndian
            ? DecodeAvx2(x, t, s, ref position, safeEnd, symbols, count)
            : DecodeScalar(x, t, s, ref position, safeEnd, symbols, count);

    /// <summary>Scalar reference of <see cref="Decode"/>.</summary>
    public static int DecodeScalar(Span<uint> x, uint* t, byte* s, ref nint position, nint safeEnd, byte* symbols, int count) =>
        DecodeScalar(x, new OneTable(t), s, ref position, safeEnd, symbols, count);

    /// <summary>AVX2 path of <see cref="Decode"/> for <see cref="Rans.WideLanes"/> states.</summary>
    public static int DecodeAvx2(Span<uint> x, uint* t, byte* s, ref nint position, nint safeEnd, byte* symbols, int count) =>
        DecodeAvx2(x, new OneTable(t), s, ref position, safeEnd, symbols, count);

    /// <summary>
    /// <see cref="Decode"/> for a stream whose symbols each name their own table, known before decoding (float-split's
    /// row classes): symbol j is decoded with the table at <c>tables + contexts[j] × Rans.Total</c>.
    /// </summary>
    /// <returns>Symbols decoded, a multiple of <c>x.Length</c>.</returns>
    public static int DecodeContexts(Span<uint> x, uint* tables, byte* contexts, byte* s, ref nint position, nint safeEnd, byte* symbols, int count) =>
        x.Length == Rans.WideLanes && Avx2.IsSupported && BitConverter.IsLittleEndian
            ? DecodeContextsAvx2(x, tables, contexts, s, ref position, safeEnd, symbols, count)
            : DecodeContextsScalar(x, tables, contexts, s, ref position, safeEnd, symbols, count);

    /// <summary>Scalar reference of <see cref="DecodeContexts"/>.</summary>
    public static int DecodeContextsScalar(Span<uint> x, uint* tables, byte* contexts, byte* s, ref nint position, nint safeEnd, byte* symbols, int count) =>
        DecodeScalar(x, new TablePerSymbol(tables, contexts), s, ref position, safeEnd, symbols, count);

    /// <summary>AVX2 path of <see cref="DecodeContexts"/> for <see cref="Rans.WideLanes"/> states.</summary>
    public static int DecodeContextsAvx2(Span<uint> x, uint* tables, byte* contexts, byte* s, ref nint position, nint safeEnd, byte* symbols, int count) =>
        DecodeAvx2(x, new TablePerSymbol(tables, contexts), s, ref position, safeEnd, symbols, count);

    /// <summary>The scalar loops, for the tables <typeparamref name="TTables"/> gives each symbol.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeScalar<TTables>(Span<uint> x, TTables tables, byte* s, ref nint position, nint safeEnd, byte* symbols, int count)
        where TTables : struct, ITables
    {
        int lanes = x.Length;
        if (lanes == Rans.NarrowLanes)
        {
            return DecodeNarrow(x, tables, s, ref position, safeEnd, symbols, count);
        }

        int j = 0;
        nint p = position;
        fixed (uint* states = x)
        {
            // One state at a time: the 32 chains are independent, and the word position only adds each lane's
            // refill flag, so no lane waits on another's decode.
            for (; j + lanes <= count && p <= safeEnd; j += lanes)
            {
                for (int lane = 0; lane < lanes; lane++)
                {
                    uint state = states[lane];
                    uint entry = tables.Of(j + lane)[state & SlotMask];
                    uint y = Rans.Advance(state, entry);
                    uint refill = ((y >> 16) - 1) >> 31;
                    states[lane] = (y << (int)(refill << 4)) | (Word(s + p) & (0u - refill));
                    p += (nint)refill * 2;
                    symbols[j + lane] = (byte)entry;
                }
            }
        }

        position = p;
        return j;
    }

    /// <summary>
    /// <see cref="DecodeScalar{TTables}"/> for a stream of <see cref="Rans.NarrowLanes"/> states (every stream under
    /// 65,536 symbols): the eight states stay in locals for the whole loop, so a step never waits for the last one's
    /// states to go through memory (with a state array, small tensors decoded a quarter slower). A lane's word offset
    /// is the count of refills before it in the step, so only the word loads wait on the lanes before them, not the
    /// decodes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeNarrow<TTables>(Span<uint> x, TTables tables, byte* s, ref nint position, nint safeEnd, byte* symbols, int count)
        where TTables : struct, ITables
    {
        int j = 0;
        nint p = position;
        fixed (uint* states = x)
        {
            uint x0 = states[0], x1 = states[1], x2 = states[2], x3 = states[3], x4 = states[4], x5 = states[5], x6 = states[6], x7 = states[7];
            for (; j + Rans.NarrowLanes <= count && p <= safeEnd; j += Rans.NarrowLanes)
            {
                // Lane by lane: a lane's word comes after those of the lanes before it that took one.
                byte* o = symbols + j;
                byte* w = s + p;
                nint taken = 0;
                x0 = NarrowLane(x0, tables.Of(j), o, w, ref taken);
                x1 = NarrowLane(x1, tables.Of(j + 1), o + 1, w, ref taken);
                x2 = NarrowLane(x2, tables.Of(j + 2), o + 2, w, ref taken);
                x3 = NarrowLane(x3, tables.Of(j + 3), o + 3, w, ref taken);
                x4 = NarrowLane(x4, tables.Of(j + 4), o + 4, w, ref taken);
                x5 = NarrowLane(x5, tables.Of(j + 5), o + 5, w, ref taken);
                x6 = NarrowLane(x6, tables.Of(j + 6), o + 6, w, ref taken);
                x7 = NarrowLane(x7, tables.Of(j + 7), o + 7, w, ref taken);
                p += taken * 2;
            }

            states[0] = x0; states[1] = x1; states[2] = x2; states[3] = x3; states[4] = x4; states[5] = x5; states[6] = x6; states[7] = x7;
        }

        position = p;
        return j;
    }

    /// <summary>
    /// One lane of a narrow step: decodes its symbol into <paramref name="symbol"/> and, when the state fell below
    /// 2^16, shifts in the word after the <paramref name="taken"/> words the lanes before it took (branch-free: the
    /// sign of <c>y - 2^16</c> gives an all-ones mask that selects the word and counts it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NarrowLane(uint x, uint* t, byte* symbol, byte* w, ref nint taken)
    {
        uint entry = t[x & SlotMask];
        *symbol = (byte)entry;
        uint y = Rans.Advance(x, entry);
        long refill = ((long)y - 0x10000) >> 63;
        uint next = (y << (int)(refill & 16)) | (Word(w + (taken * 2)) & (uint)refill);
        taken -= (nint)refill;
        return next;
    }

    /// <summary>The AVX2 loop, for the tables <typeparamref name="TTables"/> gives each symbol.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeAvx2<TTables>(Span<uint> x, TTables tables, byte* s, ref nint position, nint safeEnd, byte* symbols, int count)
        where TTables : struct, ITables
    {
        if (x.Length != Rans.WideLanes)
        {
            throw new ArgumentException($"the AVX2 decoder needs {Rans.WideLanes} states", nameof(x));
        }

        int j = 0;
        nint p = position;
        fixed (uint* states = x)
        fixed (int* permutation = s_wordPermutation)
        {
            uint* t = tables.Base;
            Vector256<uint> x0 = Avx.LoadVector256(states);
            Vector256<uint> x1 = Avx.LoadVector256(states + 8);
            Vector256<uint> x2 = Avx.LoadVector256(states + 16);
            Vector256<uint> x3 = Avx.LoadVector256(states + 24);
            Vector256<uint> slotMask = Vector256.Create(SlotMask);
            while (j + Rans.WideLanes <= count && p <= safeEnd)
            {
                // The four gathers are independent: their latencies overlap.
                Vector256<uint> e0 = Avx2.GatherVector256(t, tables.Slots(x0 & slotMask, j), 4);
                Vector256<uint> e1 = Avx2.GatherVector256(t, tables.Slots(x1 & slotMask, j + 8), 4);
                Vector256<uint> e2 = Avx2.GatherVector256(t, tables.Slots(x2 & slotMask, j + 16), 4);
                Vector256<uint> e3 = Avx2.GatherVector256(t, tables.Slots(x3 & slotMask, j + 24), 4);
                x0 = Renormalize(Advance(x0, e0, slotMask), s, ref p, permutation);
                x1 = Renormalize(Advance(x1, e1, slotMask), s, ref p, permutation);
                x2 = Renormalize(Advance(x2, e2, slotMask), s, ref p, permutation);
                x3 = Renormalize(Advance(x3, e3, slotMask), s, ref p, permutation);

                // The symbol is the entry's low byte: narrowing truncates, and keeps lane order.
                Vector256<ushort> low = Vector256.Narrow(e0, e1);
                Vector256<ushort> high = Vector256.Narrow(e2, e3);
                Vector256.Narrow(low, high).Store(symbols + j);
                j += Rans.WideLanes;
            }

            x0.Store(states);
            x1.Store(states + 8);
            x2.Store(states + 16);
            x3.Store(states + 24);
        }

        position = p;
        return j;
    }

    /// <summary>Where symbol j's table lies. Structs, so each loop is compiled for its kind with the lookups inlined.</summary>
    private interface ITables
    {
        /// <summary>The address the vector loop gathers from.</summary>
        uint* Base { get; }

        /// <summary>Symbol j's table.</summary>
        uint* Of(int j);

        /// <summary>The gather offsets (from <see cref="Base"/>) of symbols j..j+7, given their states' slots.</summary>
        Vector256<int> Slots(Vector256<uint> slots, int j);
    }

    /// <summary>Every symbol in one table.</summary>
    private readonly struct OneTable(uint* table) : ITables
    {
        public uint* Base => table;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint* Of(int j) => table;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Slots(Vector256<uint> slots, int j) => slots.AsInt32();
    }

    /// <summary>Symbol j in table <c>contexts[j]</c> of the tables laid end to end.</summary>
    private readonly struct TablePerSymbol(uint* tables, byte* contexts) : ITables
    {
        public uint* Base => tables;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint* Of(int j) => tables + (contexts[j] * Rans.Total);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Slots(Vector256<uint> slots, int j) =>
            ((Avx2.ConvertToVector256Int32(contexts + j).AsUInt32() << Rans.ScaleBits) + slots).AsInt32();
    }

    /// <summary><see cref="Rans.Advance"/> on eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Advance(Vector256<uint> x, Vector256<uint> entry, Vector256<uint> slotMask)
    {
        Vector256<uint> freq = ((entry >> 8) & slotMask) + Vector256<uint>.One;
        return Avx2.MultiplyLow(freq, x >> Rans.ScaleBits) + (entry >> 20);
    }

    /// <summary>Shifts a word into every lane below 2^16, the words taken in lane order from <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Renormalize(Vector256<uint> y, byte* s, ref nint p, int* permutation)
    {
        Vector256<uint> needs = Vector256.Equals(y >> 16, Vector256<uint>.Zero);
        uint mask = needs.ExtractMostSignificantBits();
        Vector256<uint> words = Avx2.ConvertToVector256Int32((ushort*)(s + p)).AsUInt32();
        Vector256<uint> placed = Avx2.PermuteVar8x32(words, Avx.LoadVector256(permutation + (mask * 8)).AsUInt32());
        p += BitOperations.PopCount(mask) * 2;
        return Vector256.ConditionalSelect(needs, (y << 16) | placed, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(byte* p)
    {
        ushort w = *(ushort*)p;
        return BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
    }

    private static int[] BuildWordPermutation()
    {
        int[] table = GC.AllocateArray<int>(256 * 8, pinned: true);
        for (int mask = 0; mask < 256; mask++)
        {
            int rank = 0;
            for (int lane = 0; lane < 8; lane++)
            {
                table[(mask * 8) + lane] = (mask >> lane & 1) != 0 ? rank++ : 0;
            }
        }

        return table;
    }
}
