using LLama.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MoeMesh.Inference.Llama;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Inference.Tests.Llama.Runtime;

public sealed class LlamaNativeLogTests
{
    [Fact]
    public void Lines_of_a_decode_stopped_on_purpose_are_not_errors()
    {
        var captured = new CapturingLogger();
        LlamaNativeLog.Use(captured);
        try
        {
            using var abort = new LlamaAbortSignal();
            using (LlamaNativeLog.Decoding(abort))
            {
                LlamaNativeLog.OnMessage(LLamaLogLevel.Warning, "native-log-test: before the abort\n");
                abort.Raise();
                LlamaNativeLog.OnMessage(LLamaLogLevel.Error, "native-log-test: graph_compute failed with error 1\n");
                LlamaNativeLog.OnMessage(LLamaLogLevel.Continue, "native-log-test: continued\n");
            }

            LlamaNativeLog.OnMessage(LLamaLogLevel.Warning, "native-log-test: after the decode\n");
        }
        finally
        {
            LlamaNativeLog.Use(NullLogger.Instance);
        }

        var mine = captured.Entries.Where(e => e.Message.Contains("native-log-test: ", StringComparison.Ordinal)).Select(e => e.Level).ToList();
        Assert.Equal([LogLevel.Warning, LogLevel.Debug, LogLevel.Debug, LogLevel.Warning], mine);
        Assert.DoesNotContain(LlamaNativeLog.RecentErrors, line => line.Contains("native-log-test", StringComparison.Ordinal));
    }

    private sealed class CapturingLogger : ILogger
    {
        private readonly Lock _gate = new();
        private readonly List<(LogLevel Level, string Message)> _entries = [];

        public IReadOnlyList<(LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_gate)
                {
                    return [.. _entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_gate)
            {
                _entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
