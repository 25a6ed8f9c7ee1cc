namespace Wafer.IO;

/// <summary>
/// Runs a transform over items <c>0..count-1</c> on up to <c>workers</c> threads and hands the results to a
/// consumer on the calling thread strictly in order. While the consumer works on one result, <c>2 × workers</c>
/// more are queued or running, so a worker finds its next item waiting even when consuming takes longer than
/// transforming (one worker with one item ahead idled, then paid a thread wake-up, on every chunk). At most
/// <c>2 × workers + 1</c> results exist at once, so memory stays bounded by the chunk size times the worker
/// count, never by the input size, and the output is the same whatever the thread count.
/// </summary>
internal static class OrderedPipeline
{
    /// <param name="whileWaiting">
    /// Other work for the calling thread, done a bounded piece per call while the next result is not ready (returns
    /// <see langword="false"/> when none is left), so that it takes no thread of its own; <see langword="null"/> for none.
    /// </param>
    public static void Run<T>(int count, int workers, Func<int, T> transform, Action<int, T> consume, Action<T>? abandon, Func<bool>? whileWaiting, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, workers).ConcurrentScheduler;
        // The next result and 2 × workers behind it: while it is consumed, the workers still have 2 × workers items.
        int window = (workers * 2) + 1;
        var inflight = new Queue<Task<T>>(window);
        int next = 0;

        void Refill()
        {
            while (next < count && inflight.Count < window)
            {
                int index = next++;
                inflight.Enqueue(Task.Factory.StartNew(() => transform(index), cancellationToken, TaskCreationOptions.None, scheduler));
            }
        }

        try
        {
            for (int done = 0; done < count; done++)
            {
                Refill();
                while (whileWaiting is not null && !inflight.Peek().IsCompleted)
                {
                    whileWaiting = whileWaiting() ? whileWaiting : null;
                }

                T result = inflight.Dequeue().GetAwaiter().GetResult();
                consume(done, result);
            }
        }
        finally
        {
            // On failure, wait for the work already started so no worker outlives the call, and give back its buffers.
            while (inflight.Count > 0)
            {
                Task<T> task = inflight.Dequeue();
                try
                {
                    T orphan = task.GetAwaiter().GetResult();
                    abandon?.Invoke(orphan);
                }
                catch (Exception)
                {
                    // The first failure is already propagating; later ones add nothing.
                }
            }
        }
    }
}
