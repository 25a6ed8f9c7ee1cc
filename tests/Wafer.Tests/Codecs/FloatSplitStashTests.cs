using Wafer.Codecs;
using Wafer.Codecs.Entropy;

namespace Wafer.Tests.Codecs;

/// <summary>The joint mode's stash: the raw stream's last bytes carried by the rANS states (docs/CODECS.md).</summary>
public sealed class FloatSplitStashTests
{
    [Theory]
    [InlineData(32, 0, 800, 64)] // a long final block: two bytes for each of the 32 states
    [InlineData(8, 0, 800, 16)]
    [InlineData(32, 801, 1000, 24)] // bytes 101..124 lie wholly after bit 801; byte 100 holds an earlier field's bits
    [InlineData(32, 800, 800, 0)] // a final block without raw bits keeps nothing
    [InlineData(32, 795, 803, 1)] // the last byte, zero-padded, is the final block's alone
    public void The_stash_takes_only_bytes_of_the_final_block(int lanes, long finalBlockBits, long totalBits, int expected)
    {
        Assert.Equal(expected, FloatSplitCodec.StashLength(lanes, finalBlockBits, totalBits));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(16_384, 14_336)]
    [InlineData(16_385, 16_384)]
    [InlineData(20_480, 18_432)]
    public void The_final_block_is_the_last_partial_or_whole_block_of_2048(int n, int start)
    {
        Assert.Equal(start, FloatSplitCodec.FinalBlockStart(n));
    }

    [Fact]
    public void Stashed_bytes_come_back_out_of_the_states_which_return_to_their_start()
    {
        var rng = new Random(7);
        for (int length = 0; length <= 2 * Rans.WideLanes; length++)
        {
            byte[] stash = new byte[length];
            rng.NextBytes(stash);
            uint[] states = new uint[Rans.WideLanes];
            FloatSplitCodec.Stash(stash, states);
            Assert.All(states, x => Assert.InRange(x, Rans.LowerBound, (2 * Rans.LowerBound) - 1));

            byte[] back = new byte[length];
            FloatSplitCodec.Unstash(states, back);
            Assert.Equal(stash, back);
            Assert.All(states, x => Assert.Equal(Rans.LowerBound, x));
        }
    }

    [Fact]
    public void A_state_carrying_more_than_its_share_is_left_for_the_final_check_to_reject()
    {
        // Three stashed bytes: state 0 carries two, state 1 one (its high byte must be zero), state 2 none.
        uint[] states = new uint[Rans.NarrowLanes];
        Array.Fill(states, Rans.LowerBound);
        states[0] += 0xBEEF;
        states[1] += 0x0142;
        states[2] += 1;
        byte[] stash = new byte[3];
        FloatSplitCodec.Unstash(states, stash);
        Assert.Equal(Rans.LowerBound, states[0]);
        Assert.NotEqual(Rans.LowerBound, states[1]);
        Assert.NotEqual(Rans.LowerBound, states[2]);
        Assert.Equal(new byte[] { 0xEF, 0xBE, 0x00 }, stash);
    }
}
