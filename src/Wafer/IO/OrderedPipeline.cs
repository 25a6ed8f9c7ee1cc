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
    public static void Run<T>(int count, int workers, Func<int, T> transform, Action<int, T> consume, Action<T>? abandon, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, workers).ConcurrentScheduler;
        int window = workers * 2;
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
            Refill();
            for (int done = 0; done < count; done++)
            {
                T result = inflight.Dequeue().GetAwaiter().GetResult();
                Refill();
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
