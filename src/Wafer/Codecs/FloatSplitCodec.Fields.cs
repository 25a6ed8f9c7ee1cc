using System.Runtime.CompilerServices;
using Wafer.Codecs.Entropy;
using Wafer.Codecs.Fields;

namespace Wafer.Codecs;

internal sealed partial class FloatSplitCodec
{
    /// <summary>Turns a value's raw field (low mantissa bits, sign above them) back into its bit positions.</summary>
    private readonly struct Fields
    {
        private readonly int _dropped;
        private readonly int _rawBits;
        private readonly int _low;
        private readonly ulong _lowMask;
        private readonly int _signShift;

        public Fields(FloatLayout layout, int dropped, int rawBits)
        {
            _dropped = dropped;
            _rawBits = rawBits;
            _low = rawBits - 1;
            _lowMask = (1UL << _low) - 1;
            _signShift = layout.Bits - 1;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Assemble(ref BitReader raw)
        {
            ulong r = _rawBits <= 32 ? raw.Read(_rawBits) : raw.Read(32) | ((ulong)raw.Read(_rawBits - 32) << 32);
            return ((r & _lowMask) << _dropped) | ((r >> _low) << _signShift);
        }
    }
}
