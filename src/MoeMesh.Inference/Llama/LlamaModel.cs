using System.Runtime.InteropServices;
using System.Text;
using LLama.Exceptions;
using LLama.Native;
using MoeMesh.Generation;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// A GGUF model loaded through LLamaSharp, and its vocabulary: tokenization, detokenization, chat
/// templates. The tokenizer functions are thread-safe in llama.cpp, so any thread may call them.
/// </summary>
internal sealed unsafe class LlamaModel : IDisposable
{
    private readonly bool[] _endOfGeneration;
    private readonly bool _stripsLeadingSpace;
    private readonly int? _beginToken;

    private LlamaModel(SafeLlamaModelHandle handle)
    {
        Handle = handle;
        var vocabulary = handle.Vocab;
        VocabularySize = vocabulary.Count;
        TrainingContextSize = handle.ContextSize;
        LayerCount = handle.LayerCount;
        EmbeddingLength = handle.EmbeddingSize;
        HeadCount = handle.HeadCount;
        KeyValueHeadCount = handle.KVHeadCount;
        WeightBytes = (long)handle.SizeInBytes;
        ParameterCount = (long)handle.ParameterCount;
        AddsBeginToken = vocabulary.ShouldAddBOS;
        _beginToken = vocabulary.BOS is { } bos ? (int)bos : null;
        IsRecurrent = handle.IsRecurrent;
        HasEncoder = handle.HasEncoder;
        HasDecoder = handle.HasDecoder;
        EmbeddedChatTemplate = handle.GetTemplate(strict: false);
        Description = handle.Description;

        // One lookup per sampled token; asking llama.cpp each time would cost a call per token.
        _endOfGeneration = new bool[VocabularySize];
        for (var token = 0; token < VocabularySize; token++)
        {
            _endOfGeneration[token] = ((LLamaToken)token).IsEndOfGeneration(vocabulary);
        }

        // llama.cpp's detokenizer drops the space an SPM tokenizer puts before the first word.
        var addSpacePrefix = handle.MetadataValueByKey("tokenizer.ggml.add_space_prefix") is { } value
            ? Encoding.UTF8.GetString(value.Span) == "true"
            : vocabulary.Type == LLamaVocabType.SentencePiece;
        _stripsLeadingSpace = addSpacePrefix;
    }

    public SafeLlamaModelHandle Handle { get; }

    public int VocabularySize { get; }

    public int TrainingContextSize { get; }

    public int LayerCount { get; }

    public int EmbeddingLength { get; }

    public int HeadCount { get; }

    public int KeyValueHeadCount { get; }

    public long WeightBytes { get; }

    public long ParameterCount { get; }

    public bool AddsBeginToken { get; }

    /// <summary>True for recurrent models, whose memory cannot drop the end of a sequence.</summary>
    public bool IsRecurrent { get; }

    public bool HasEncoder { get; }

    public bool HasDecoder { get; }

    /// <summary>The model's <c>tokenizer.chat_template</c>, or null.</summary>
    public string? EmbeddedChatTemplate { get; }

    /// <summary>llama.cpp's one-line description, such as "llama ?B F32".</summary>
    public string Description { get; }

    /// <summary>
    /// Loads <paramref name="path"/>. Returns null when llama.cpp refuses the file (its log says
    /// why); throws <see cref="OperationCanceledException"/> when cancelled during the load.
    /// </summary>
    public static LlamaModel? Load(string path, int gpuLayers, bool useMemoryMap, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var parameters = LLamaModelParams.Default();
        parameters.n_gpu_layers = gpuLayers;
        parameters.load_mode = useMemoryMap ? LLamaLoadMode.MemoryMap : LLamaLoadMode.None;

        // Returning false from the callback makes llama.cpp stop loading and fail.
        parameters.progress_callback = (fraction, _) =>
        {
            progress?.Report(Math.Clamp(fraction, 0f, 1f));
            return !cancellationToken.IsCancellationRequested;
        };

        SafeLlamaModelHandle handle;
        try
        {
            handle = SafeLlamaModelHandle.LoadFromFile(path, parameters);
        }
        catch (LoadWeightsFailedException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }

        GC.KeepAlive(parameters.progress_callback);
        if (cancellationToken.IsCancellationRequested)
        {
            handle.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return new LlamaModel(handle);
    }

    /// <summary>
    /// Keeps the model alive while a caller on another thread uses it: the engine may be unloaded
    /// at any moment, and a freed vocabulary must never be touched. Throws
    /// <see cref="ObjectDisposedException"/> when the model is already gone.
    /// </summary>
    public ModelLease Lease()
    {
        var added = false;
        Handle.DangerousAddRef(ref added);
        return new ModelLease(Handle);
    }

    /// <summary>Releases the reference taken by <see cref="Lease"/>.</summary>
    public readonly struct ModelLease(SafeLlamaModelHandle handle) : IDisposable
    {
        public void Dispose() => handle.DangerousRelease();
    }

    /// <summary>Tokens of <paramref name="text"/>; special tokens written as text (such as &lt;|im_start|&gt;) are recognised.</summary>
    public int[] Tokenize(string text, bool addSpecial)
    {
        var tokens = Handle.Tokenize(text, addSpecial, special: true, Encoding.UTF8);
        return MemoryMarshal.Cast<LLamaToken, int>(tokens.AsSpan()).ToArray();
    }

    /// <summary>Writes the bytes of <paramref name="token"/> into <paramref name="buffer"/>; returns the count, or the negative size needed.</summary>
    public int TokenToPiece(int token, Span<byte> buffer) => TokenToPiece(token, buffer, leftStrip: 0);

    /// <summary>The bytes of <paramref name="token"/> as text would show them (control tokens are empty).</summary>
    public byte[] TokenBytes(int token) => TokenBytes(token, leftStrip: 0);

    /// <summary>The text of <paramref name="tokens"/>, decoded as a whole (special tokens removed, as llama.cpp's detokenizer does).</summary>
    public string Detokenize(IReadOnlyList<int> tokens)
    {
        var start = 0;
        var strip = _stripsLeadingSpace;
        if (AddsBeginToken && tokens.Count > 0 && tokens[0] == _beginToken)
        {
            start = 1;
            strip = false;
        }

        var bytes = new List<byte>();
        for (var i = start; i < tokens.Count; i++)
        {
            bytes.AddRange(TokenBytes(tokens[i], strip && i == start ? 1 : 0));
        }

        return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
    }

    public bool IsEndOfGeneration(int token) => (uint)token < (uint)_endOfGeneration.Length && _endOfGeneration[token];

    /// <summary>
    /// Formats <paramref name="messages"/> with <paramref name="template"/> (a Jinja template llama.cpp
    /// recognises, or a built-in name such as "chatml"); null when llama.cpp does not support it.
    /// </summary>
    public static string? ApplyChatTemplate(string template, IReadOnlyList<ChatTurn> messages, bool addAssistantPrefix)
    {
        // One pinned block holds every NUL-terminated string, the array of pointers refers into it.
        var offsets = new List<(int Role, int Content)>(messages.Count);
        var block = new List<byte>();
        foreach (var message in messages)
        {
            var role = block.Count;
            block.AddRange(Encoding.UTF8.GetBytes(message.Role));
            block.Add(0);
            var content = block.Count;
            block.AddRange(Encoding.UTF8.GetBytes(message.Content));
            block.Add(0);
            offsets.Add((role, content));
        }

        var strings = block.ToArray();
        var templateBytes = Encoding.UTF8.GetBytes(template + "\0");
        var chat = new LLamaChatMessage[Math.Max(1, messages.Count)];
        var capacity = Math.Max(256, (strings.Length * 2) + 256);
        fixed (byte* stringsPointer = strings)
        fixed (byte* templatePointer = templateBytes)
        fixed (LLamaChatMessage* chatPointer = chat)
        {
            for (var i = 0; i < messages.Count; i++)
            {
                chat[i].role = stringsPointer + offsets[i].Role;
                chat[i].content = stringsPointer + offsets[i].Content;
            }

            while (true)
            {
                var output = new byte[capacity];
                int length;
                fixed (byte* outputPointer = output)
                {
                    length = NativeApi.llama_chat_apply_template(templatePointer, chatPointer, (nuint)messages.Count, addAssistantPrefix, outputPointer, capacity);
                }

                if (length < 0)
                {
                    return null;
                }

                if (length <= capacity)
                {
                    return Encoding.UTF8.GetString(output, 0, length);
                }

                capacity = length;
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private int TokenToPiece(int token, Span<byte> buffer, int leftStrip)
    {
        var size = (int)Handle.TokenToSpan(token, buffer, leftStrip, special: false);
        return size <= buffer.Length ? size : -size;
    }

    private byte[] TokenBytes(int token, int leftStrip)
    {
        Span<byte> small = stackalloc byte[64];
        var count = TokenToPiece(token, small, leftStrip);
        if (count >= 0)
        {
            return small[..count].ToArray();
        }

        var large = new byte[-count];
        count = TokenToPiece(token, large, leftStrip);
        return large[..Math.Max(0, count)];
    }
}
