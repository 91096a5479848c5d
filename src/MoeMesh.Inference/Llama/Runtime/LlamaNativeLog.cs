using System.Collections.Concurrent;
using LLama.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MoeMesh.Inference.Llama.Runtime;

/// <summary>
/// Receives llama.cpp's log (through LLamaSharp) and forwards it to an <see cref="ILogger"/>;
/// keeps the most recent error lines so a failed load or context can say why.
/// </summary>
internal static partial class LlamaNativeLog
{
    private const int RecentErrorCapacity = 16;

    private static readonly ConcurrentQueue<string> RecentErrorLines = new();
    private static volatile ILogger _logger = NullLogger.Instance;

    [ThreadStatic]
    private static LLamaLogLevel _lastLevel;

    [ThreadStatic]
    private static LlamaAbortSignal? _decoding;

    /// <summary>The most recent error lines llama.cpp logged, oldest first.</summary>
    public static IReadOnlyList<string> RecentErrors => [.. RecentErrorLines];

    public static void Use(ILogger target) => _logger = target;

    /// <summary>Forgets the recorded error lines (before an operation whose errors should be reported alone).</summary>
    public static void ClearRecentErrors() => RecentErrorLines.Clear();

    /// <summary>": line / line" with the last few error lines, or empty.</summary>
    public static string RecentErrorSummary()
    {
        var errors = RecentErrors;
        return errors.Count == 0 ? "" : $": {string.Join(" / ", errors.TakeLast(4))}";
    }

    /// <summary>
    /// Marks the calling thread as decoding under <paramref name="abort"/> until the scope ends. Once
    /// the signal is raised, the decode stops on purpose (a deadline, a cancellation, shutdown) and
    /// llama.cpp's lines about the interrupted graph are not errors: they go to the debug level and
    /// stay out of <see cref="RecentErrors"/>.
    /// </summary>
    public static DecodeScope Decoding(LlamaAbortSignal abort)
    {
        _decoding = abort;
        return default;
    }

    public static void OnMessage(LLamaLogLevel level, string message)
    {
        try
        {
            if (level == LLamaLogLevel.Continue)
            {
                level = _lastLevel;
            }
            else
            {
                _lastLevel = level;
            }

            var text = message?.TrimEnd('\n', '\r');
            if (string.IsNullOrEmpty(text))
            {
                return;
            }

            var stoppedOnPurpose = _decoding is { IsRaised: true } && level is LLamaLogLevel.Error or LLamaLogLevel.Warning;
            if (stoppedOnPurpose)
            {
                level = LLamaLogLevel.Info;
            }

            if (level == LLamaLogLevel.Error)
            {
                RecentErrorLines.Enqueue(text);
                while (RecentErrorLines.Count > RecentErrorCapacity && RecentErrorLines.TryDequeue(out _))
                {
                }
            }

            var logLevel = level switch
            {
                LLamaLogLevel.Error => LogLevel.Error,
                LLamaLogLevel.Warning => LogLevel.Warning,
                LLamaLogLevel.Info => LogLevel.Debug,
                _ => LogLevel.Trace,
            };
            var current = _logger;
            if (current.IsEnabled(logLevel))
            {
                NativeMessage(current, logLevel, text);
            }
        }
        catch (Exception)
        {
            // An exception must never unwind into native code.
        }
    }

    /// <summary>Ends a <see cref="Decoding"/> scope on the thread that opened it.</summary>
    public readonly ref struct DecodeScope
    {
        public void Dispose() => _decoding = null;
    }

    [LoggerMessage(EventId = 1100, Message = "llama.cpp: {Message}")]
    private static partial void NativeMessage(ILogger logger, LogLevel level, string message);
}
