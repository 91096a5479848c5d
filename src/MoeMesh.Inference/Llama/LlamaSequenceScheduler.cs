using System.Collections.Concurrent;
using LLama.Exceptions;
using LLama.Native;
using Microsoft.Extensions.Logging;
using MoeMesh.Errors;
using MoeMesh.Generation;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Owns one llama.cpp context (LLamaSharp's <see cref="SafeLLamaContextHandle"/>) and the thread
/// that decodes on it. Requests wait in a queue until a
/// sequence is free; then every step builds one <see cref="LLamaBatch"/> holding the next token of each
/// generating sequence and chunks of the prompts still being read, decodes it once, and samples
/// each sequence with its own sampler chain. A request is placed in the free sequence whose cached
/// tokens share the longest prefix with its prompt, and only the tokens after that prefix are
/// computed. Cancelling one request removes it between steps and never disturbs the others; the
/// abort callback interrupts a prompt-reading step only when every request in it is cancelled, or
/// on shutdown.
/// </summary>
internal sealed class LlamaSequenceScheduler : IDisposable
{
    private readonly LlamaModel _model;
    private readonly LlamaExpertSettings _settings;
    private readonly ILogger _logger;
    private readonly string _expertId;
    private readonly SafeLLamaContextHandle _context;
    private readonly LlamaSequenceSlots _sequences;
    private readonly ConcurrentQueue<LlamaGenerationJob> _incoming = new();
    private readonly List<LlamaGenerationJob> _waiting = [];
    private readonly List<LlamaGenerationJob> _active = [];
    private readonly AutoResetEvent _wakeUp = new(false);
    private readonly Thread _thread;
    private readonly LlamaAbortSignal _abort = new();
    private readonly LlamaStepBatch _step;
    private readonly Lock _enqueueGate = new();
    private LlamaGenerationJob[] _inFlight = [];
    private int _queuedCount;
    private volatile bool _stopping;
    private bool _disposed;

    private LlamaSequenceScheduler(LlamaModel model, LlamaExpertSettings settings, ILogger logger, string expertId, SafeLLamaContextHandle context, int index)
    {
        _model = model;
        _settings = settings;
        _logger = logger;
        _expertId = expertId;
        _context = context;
        _sequences = new LlamaSequenceSlots(context, settings.SequencesPerContext, settings.ReusePromptPrefix, model.IsRecurrent);
        _step = new LlamaStepBatch((int)Math.Min((uint)settings.BatchSize, context.BatchSize));
        ContextTokens = (int)context.ContextSize;
        _thread = new Thread(RunLoop) { IsBackground = true, Name = $"llama-decode {expertId}#{index}" };
        _thread.Start();
    }

    /// <summary>KV cells of the context (all sequences together).</summary>
    public int ContextTokens { get; }

    /// <summary>Requests queued or running.</summary>
    public int Load => Volatile.Read(ref _queuedCount);

    /// <summary>
    /// Creates the context: one KV stream per sequence (<c>kv_unified = false</c>), each as large as
    /// the expert's context window, so sequences never compete for cache cells. Returns null when
    /// llama.cpp cannot create it (usually not enough memory); its log says why.
    /// </summary>
    public static LlamaSequenceScheduler? Create(LlamaModel model, LlamaExpertSettings settings, ILogger logger, string expertId, int index)
    {
        var parameters = LLamaContextParams.Default();
        parameters.n_ctx = (uint)(settings.ContextSize * settings.SequencesPerContext);
        parameters.n_seq_max = (uint)settings.SequencesPerContext;
        parameters.n_batch = (uint)settings.BatchSize;
        parameters.n_ubatch = (uint)Math.Min(settings.BatchSize, 512);
        parameters.n_threads = settings.Threads;
        parameters.n_threads_batch = settings.BatchThreads;
        parameters.kv_unified = false;
        parameters.no_perf = true;
        SafeLLamaContextHandle handle;
        try
        {
            // The context holds a reference on the model, so the model is never freed first.
            handle = SafeLLamaContextHandle.Create(model.Handle, parameters);
        }
        catch (RuntimeError)
        {
            return null;
        }

        return new LlamaSequenceScheduler(model, settings, logger, expertId, handle, index);
    }

    /// <summary>Longest prefix of <paramref name="prompt"/> cached in any sequence, as of the last releases.</summary>
    public int CachedPrefixLength(int[] prompt) => _sequences.CachedPrefixLength(prompt);

    /// <summary>Queues <paramref name="job"/>; throws <see cref="ExpertUnavailableException"/> when shut down or the queue is full.</summary>
    public void Enqueue(LlamaGenerationJob job)
    {
        // The gate orders this against Dispose: a job is either queued before shutdown (and then
        // failed by it) or refused here, never left behind in a queue nobody reads.
        lock (_enqueueGate)
        {
            if (_stopping)
            {
                throw new ExpertUnavailableException($"The expert '{_expertId}' was unloaded.");
            }

            if (Interlocked.Increment(ref _queuedCount) > _settings.MaxQueuedRequests + _settings.SequencesPerContext)
            {
                Interlocked.Decrement(ref _queuedCount);
                throw new ExpertUnavailableException(
                    $"The expert '{_expertId}' is overloaded: {_settings.MaxQueuedRequests} requests are already waiting. Retry later or add replicas.");
            }

            job.WatchCancellation(() => OnJobCancelled());
            _incoming.Enqueue(job);
        }

        _wakeUp.Set();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_enqueueGate)
        {
            _stopping = true;
        }

        _abort.Raise();
        _wakeUp.Set();
        _thread.Join();

        var unloaded = new ExpertUnavailableException($"The expert '{_expertId}' was unloaded while the request was running.");
        foreach (var job in _active.Concat(_waiting).Concat(_incoming))
        {
            job.Fail(unloaded);
        }

        _context.Dispose();
        _abort.Dispose();
        _wakeUp.Dispose();
    }

    private void OnJobCancelled()
    {
        // Interrupt the running step only if nobody in it still wants its result.
        var running = Volatile.Read(ref _inFlight);
        if (running.Length > 0 && running.All(j => j.IsCancelled))
        {
            _abort.Raise();
        }

        _wakeUp.Set();
    }

    private void RunLoop()
    {
        while (!_stopping)
        {
            try
            {
                while (_incoming.TryDequeue(out var job))
                {
                    _waiting.Add(job);
                }

                DropCancelled();
                Admit();
                if (_active.Count == 0)
                {
                    _wakeUp.WaitOne();
                    continue;
                }

                Step();
            }
            catch (Exception e)
            {
                // Never let one bad step take the thread (and every later request) down.
                LlamaEngineLog.StepFailed(_logger, _expertId, e);
                foreach (var job in _active.ToList())
                {
                    Release(job, clearCache: true);
                    job.Fail(new ExpertUnavailableException($"The expert '{_expertId}' failed while generating: {e.Message}", e));
                }
            }
        }
    }

    private void DropCancelled()
    {
        for (var i = _waiting.Count - 1; i >= 0; i--)
        {
            if (_waiting[i].IsCancelled)
            {
                var job = _waiting[i];
                _waiting.RemoveAt(i);
                Interlocked.Decrement(ref _queuedCount);
                job.Fail(new OperationCanceledException(job.CancellationToken));
            }
        }

        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var job = _active[i];
            if (job.IsCancelled)
            {
                Release(job, clearCache: false);
                job.Fail(new OperationCanceledException(job.CancellationToken));
            }
        }
    }

    private void Admit()
    {
        while (_waiting.Count > 0 && _sequences.AnyFree)
        {
            var job = _waiting[0];
            _waiting.RemoveAt(0);
            _sequences.Seat(job);
            job.MarkAdmitted();
            _active.Add(job);
            try
            {
                job.Sampler = LlamaSamplerChain.ForPrompt(job.Request.Sampling, job.PromptTokens);
            }
            catch (Exception e)
            {
                Release(job, clearCache: false);
                job.Fail(new ExpertUnavailableException($"The expert '{_expertId}' could not set up sampling: {e.Message}", e));
            }
        }
    }

    private void Step()
    {
        _step.Build(_active);
        var jobs = _step.Jobs;
        if (_step.HasPrefill)
        {
            // Reading a prompt can take a while; text held back for coalescing goes out first.
            foreach (var job in _active)
            {
                job.FlushUnsent();
            }
        }

        // A step of single tokens is short, so cancelling it just waits for its end.
        _abort.Watch(_context, _step.HasPrefill);
        Volatile.Write(ref _inFlight, [.. jobs]);
        _abort.Reset();
        if (_stopping)
        {
            return;
        }

        int result;
        using (LlamaNativeLog.Decoding(_abort))
        {
            result = (int)_context.Decode(_step.Batch);
        }

        Volatile.Write(ref _inFlight, []);

        if (result != 0)
        {
            HandleDecodeFailure(result, jobs);
            return;
        }

        foreach (var job in jobs)
        {
            var slot = job.Slot!;
            if (job.PendingToken is { } fed)
            {
                slot.History.Add(fed);
                job.PendingToken = null;
            }
            else
            {
                slot.History.AddRange(job.PromptTokens.AsSpan(job.NextPromptIndex, job.TokensInBatch));
                job.NextPromptIndex += job.TokensInBatch;
            }

            if (job.OutputIndex >= 0)
            {
                var token = job.Sampler!.Sample(_context, job.OutputIndex);
                if (job.TakeToken((int)token, _model, _settings.ContextSize) is { } reason)
                {
                    Finish(job, reason);
                }
            }
        }
    }

    private void HandleDecodeFailure(int result, List<LlamaGenerationJob> jobs)
    {
        // Whatever part of the batch reached the cache is dropped, so each sequence's history stays exact.
        foreach (var job in jobs)
        {
            _context.MemorySequenceRemove((LLamaSeqId)job.Slot!.SequenceId, job.Slot.History.Count, -1);
        }

        if (result == 2)
        {
            // Aborted: every request in the step was cancelled, or the scheduler is stopping.
            return;
        }

        LlamaEngineLog.DecodeFailed(_logger, _expertId, result);
        var error = new ExpertUnavailableException(result == 1
            ? $"The expert '{_expertId}' ran out of KV cache space (llama_decode returned 1)."
            : $"The expert '{_expertId}' failed to decode (llama_decode returned {result}).");
        foreach (var job in jobs)
        {
            Release(job, clearCache: true);
            job.Fail(error);
        }
    }

    private void Finish(LlamaGenerationJob job, FinishReason reason)
    {
        Release(job, clearCache: false);
        job.Complete(reason);
    }

    private void Release(LlamaGenerationJob job, bool clearCache)
    {
        _sequences.Vacate(job, clearCache);
        if (_active.Remove(job))
        {
            Interlocked.Decrement(ref _queuedCount);
        }
    }
}
