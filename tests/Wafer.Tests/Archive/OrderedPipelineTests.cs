using Wafer.IO;

namespace Wafer.Tests.Archive;

/// <summary>The ordered pipeline behind pack, unpack, verify, diff and apply: order, bounded memory, busy workers.</summary>
public sealed class OrderedPipelineTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(100, 1)]
    [InlineData(100, 2)]
    [InlineData(100, 5)]
    public void Results_reach_the_consumer_in_order_and_at_most_two_per_worker_plus_one_exist_at_once(int count, int workers)
    {
        int alive = 0;
        int mostAlive = 0;
        var consumed = new List<int>();
        OrderedPipeline.Run(
            count,
            workers,
            index =>
            {
                int now = Interlocked.Increment(ref alive);
                InterlockedMax(ref mostAlive, now);
                Thread.SpinWait(1000 * (index % 3));
                return index;
            },
            (index, result) =>
            {
                Assert.Equal(index, result);
                consumed.Add(result);
                Interlocked.Decrement(ref alive);
            },
            abandon: null,
            whileWaiting: null,
            CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, count), consumed);
        Assert.InRange(mostAlive, 0, (2 * workers) + 1);
    }

    [Fact]
    public void While_one_result_is_consumed_the_next_two_are_transformed()
    {
        // One worker: the consumer of item i waits until items i + 1 and i + 2 are done. With only one item queued
        // ahead, item i + 2 would not start before item i is consumed, and the wait would time out.
        const int Count = 6;
        ManualResetEventSlim[] done = [.. Enumerable.Range(0, Count).Select(_ => new ManualResetEventSlim())];
        OrderedPipeline.Run(
            Count,
            1,
            index =>
            {
                done[index].Set();
                return index;
            },
            (index, _) =>
            {
                for (int ahead = index + 1; ahead < Math.Min(Count, index + 3); ahead++)
                {
                    Assert.True(done[ahead].Wait(TimeSpan.FromSeconds(10)), $"item {ahead} was not transformed while item {index} was consumed");
                }
            },
            abandon: null,
            whileWaiting: null,
            CancellationToken.None);
    }

    [Fact]
    public void A_failing_transform_propagates_after_the_started_work_is_handed_back()
    {
        // Two workers: the item awaited and four behind it are queued, so when item 3 fails, items 4 to 7 have been started.
        var abandoned = new List<int>();
        var error = Assert.Throws<InvalidOperationException>(() => OrderedPipeline.Run(
            10,
            2,
            index => index == 3 ? throw new InvalidOperationException("item 3") : index,
            (_, _) => { },
            abandoned.Add,
            whileWaiting: null,
            CancellationToken.None));

        Assert.Equal("item 3", error.Message);
        Assert.Equal([4, 5, 6, 7], abandoned);
    }

    [Fact]
    public void The_calling_thread_does_its_other_work_while_it_waits_and_stops_when_none_is_left()
    {
        // The transform waits until the caller has done all five pieces of its other work, so the caller must do them
        // while it waits; after the fifth, the work says none is left and is not asked again.
        using var allDone = new ManualResetEventSlim();
        int caller = Environment.CurrentManagedThreadId;
        int pieces = 0;
        int calls = 0;
        OrderedPipeline.Run(
            3,
            1,
            index =>
            {
                Assert.True(index > 0 || allDone.Wait(TimeSpan.FromSeconds(10)), "the caller did not do its other work while waiting");
                return index;
            },
            (_, _) => { },
            abandon: null,
            () =>
            {
                Assert.Equal(caller, Environment.CurrentManagedThreadId);
                calls++;
                if (pieces == 5)
                {
                    return false;
                }

                if (++pieces == 5)
                {
                    allDone.Set();
                }

                return true;
            },
            CancellationToken.None);

        Assert.Equal(5, pieces);
        Assert.InRange(calls, 5, 6);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
