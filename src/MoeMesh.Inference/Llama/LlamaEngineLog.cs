using Microsoft.Extensions.Logging;

namespace MoeMesh.Inference.Llama;

internal static partial class LlamaEngineLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information,
        Message = "Loaded expert '{ExpertId}' from {Path}: {Description}, {Parameters} parameters, context {ContextSize} × {Sequences} sequences × {Contexts} contexts, {Threads} threads, {GpuLayers} GPU layers, chat template: {Template}, in {ElapsedMs:F0} ms")]
    public static partial void ModelLoaded(ILogger logger, string expertId, string path, string description, long parameters, int contextSize, int sequences, int contexts, int threads, int gpuLayers, string template, double elapsedMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Expert '{ExpertId}' could not be loaded: {Reason}")]
    public static partial void LoadFailed(ILogger logger, string expertId, string reason, Exception? exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Expert '{ExpertId}' has engine options the llama.cpp engine does not read: {Keys}")]
    public static partial void IgnoredEngineOptions(ILogger logger, string expertId, string keys);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Expert '{ExpertId}': llama_decode returned {Result}; the requests in that batch were failed")]
    public static partial void DecodeFailed(ILogger logger, string expertId, int result);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Expert '{ExpertId}': a decoding step failed; its requests were failed")]
    public static partial void StepFailed(ILogger logger, string expertId, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Unloaded expert '{ExpertId}'")]
    public static partial void ModelUnloaded(ILogger logger, string expertId);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "llama.cpp {Version} loaded through LLamaSharp from {Path} ({Source}); devices: {Devices}")]
    public static partial void RuntimeLoaded(ILogger logger, string version, string path, string source, string devices);
}
