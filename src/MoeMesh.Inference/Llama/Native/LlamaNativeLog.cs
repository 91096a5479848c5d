using Microsoft.Extensions.Logging;

namespace MoeMesh.Inference.Llama.Native;

internal static partial class LlamaNativeLog
{
    [LoggerMessage(EventId = 1100, Message = "llama.cpp: {Message}")]
    public static partial void NativeMessage(ILogger logger, LogLevel level, string message);
}
