using System.Runtime.InteropServices;
using System.Text;
using MoeMesh.Generation;
using MoeMesh.Inference.Llama.Native;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// A loaded llama.cpp model and its vocabulary: tokenization, detokenization, chat templates.
/// The tokenizer functions are thread-safe in llama.cpp, so any thread may call them.
/// </summary>
internal sealed unsafe class LlamaModel : IDisposable
{
    private LlamaModel(SafeLlamaModelHandle handle)
    {
        Handle = handle;
        var model = handle.DangerousGetHandle();
        Vocabulary = LlamaNative.llama_model_get_vocab(model);
        VocabularySize = LlamaNative.llama_vocab_n_tokens(Vocabulary);
        TrainingContextSize = LlamaNative.llama_model_n_ctx_train(model);
        LayerCount = LlamaNative.llama_model_n_layer(model);
        EmbeddingLength = LlamaNative.llama_model_n_embd(model);
        HeadCount = LlamaNative.llama_model_n_head(model);
        KeyValueHeadCount = LlamaNative.llama_model_n_head_kv(model);
        WeightBytes = (long)LlamaNative.llama_model_size(model);
        ParameterCount = (long)LlamaNative.llama_model_n_params(model);
        AddsBeginToken = LlamaNative.llama_vocab_get_add_bos(Vocabulary) != 0;
        var template = LlamaNative.llama_model_chat_template(model, null);
        EmbeddedChatTemplate = template is null ? null : Marshal.PtrToStringUTF8((nint)template);
        Span<byte> description = stackalloc byte[256];
        fixed (byte* buffer = description)
        {
            var length = LlamaNative.llama_model_desc(model, buffer, (nuint)description.Length);
            Description = length > 0 ? Encoding.UTF8.GetString(description[..Math.Min(length, description.Length - 1)]) : "";
        }
    }

    public SafeLlamaModelHandle Handle { get; }

    public nint Vocabulary { get; }

    public int VocabularySize { get; }

    public int TrainingContextSize { get; }

    public int LayerCount { get; }

    public int EmbeddingLength { get; }

    public int HeadCount { get; }

    public int KeyValueHeadCount { get; }

    public long WeightBytes { get; }

    public long ParameterCount { get; }

    public bool AddsBeginToken { get; }

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
        var parameters = LlamaNative.llama_model_default_params();
        parameters.GpuLayerCount = gpuLayers;
        parameters.LoadMode = useMemoryMap ? LlamaLoadMode.Mmap : LlamaLoadMode.None;
        var state = new LoadState(progress, cancellationToken);
        var stateHandle = GCHandle.Alloc(state);
        try
        {
            parameters.ProgressCallback = (nint)(delegate* unmanaged<float, nint, byte>)&OnLoadProgress;
            parameters.ProgressCallbackUserData = GCHandle.ToIntPtr(stateHandle);
            var pathBytes = Encoding.UTF8.GetBytes(path + "\0");
            nint model;
            fixed (byte* pathPointer = pathBytes)
            {
                model = LlamaNative.llama_model_load_from_file(pathPointer, parameters);
            }

            if (model == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return null;
            }

            var handle = new SafeLlamaModelHandle(model);
            if (cancellationToken.IsCancellationRequested)
            {
                handle.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }

            return new LlamaModel(handle);
        }
        finally
        {
            stateHandle.Free();
        }
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

    public bool HasEncoder => LlamaNative.llama_model_has_encoder(Handle.DangerousGetHandle()) != 0;

    public bool HasDecoder => LlamaNative.llama_model_has_decoder(Handle.DangerousGetHandle()) != 0;

    /// <summary>Tokens of <paramref name="text"/>; special tokens written as text (such as &lt;|im_start|&gt;) are recognised.</summary>
    public int[] Tokenize(string text, bool addSpecial)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var capacity = bytes.Length + 8;
        while (true)
        {
            var tokens = new int[capacity];
            int count;
            fixed (byte* textPointer = bytes)
            fixed (int* tokenPointer = tokens)
            {
                count = LlamaNative.llama_tokenize(Vocabulary, textPointer, bytes.Length, tokenPointer, capacity, addSpecial ? (byte)1 : (byte)0, 1);
            }

            if (count >= 0)
            {
                return count == capacity ? tokens : tokens[..count];
            }

            if (count == int.MinValue)
            {
                throw new InvalidOperationException("The text is too long to tokenize.");
            }

            capacity = -count;
        }
    }

    /// <summary>Writes the bytes of <paramref name="token"/> into <paramref name="buffer"/>; returns the count, or the negative size needed.</summary>
    public int TokenToPiece(int token, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            return LlamaNative.llama_token_to_piece(Vocabulary, token, pointer, buffer.Length, 0, 0);
        }
    }

    /// <summary>The bytes of <paramref name="token"/> as text would show them (control tokens are empty).</summary>
    public byte[] TokenBytes(int token)
    {
        Span<byte> small = stackalloc byte[64];
        var count = TokenToPiece(token, small);
        if (count >= 0)
        {
            return small[..count].ToArray();
        }

        var large = new byte[-count];
        count = TokenToPiece(token, large);
        return large[..Math.Max(0, count)];
    }

    /// <summary>The text of <paramref name="tokens"/>, decoded as a whole (special tokens removed, as llama.cpp's detokenizer does).</summary>
    public string Detokenize(IReadOnlyList<int> tokens)
    {
        var ids = tokens.ToArray();
        var capacity = ids.Length * 8 + 16;
        while (true)
        {
            var text = new byte[capacity];
            int length;
            fixed (int* tokenPointer = ids)
            fixed (byte* textPointer = text)
            {
                length = LlamaNative.llama_detokenize(Vocabulary, tokenPointer, ids.Length, textPointer, capacity, 1, 0);
            }

            if (length >= 0)
            {
                return Encoding.UTF8.GetString(text, 0, length);
            }

            capacity = -length;
        }
    }

    public bool IsEndOfGeneration(int token) => LlamaNative.llama_vocab_is_eog(Vocabulary, token) != 0;

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
        var chat = new LlamaChatMessage[Math.Max(1, messages.Count)];
        var capacity = Math.Max(256, strings.Length * 2 + 256);
        fixed (byte* stringsPointer = strings)
        fixed (byte* templatePointer = templateBytes)
        fixed (LlamaChatMessage* chatPointer = chat)
        {
            for (var i = 0; i < messages.Count; i++)
            {
                chat[i].Role = stringsPointer + offsets[i].Role;
                chat[i].Content = stringsPointer + offsets[i].Content;
            }

            while (true)
            {
                var output = new byte[capacity];
                int length;
                fixed (byte* outputPointer = output)
                {
                    length = LlamaNative.llama_chat_apply_template(templatePointer, chatPointer, (nuint)messages.Count, addAssistantPrefix ? (byte)1 : (byte)0, outputPointer, capacity);
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

    private sealed record LoadState(IProgress<double>? Progress, CancellationToken CancellationToken);

    [UnmanagedCallersOnly]
    private static byte OnLoadProgress(float progress, nint userData)
    {
        try
        {
            if (GCHandle.FromIntPtr(userData).Target is not LoadState state)
            {
                return 1;
            }

            state.Progress?.Report(Math.Clamp(progress, 0f, 1f));
            return state.CancellationToken.IsCancellationRequested ? (byte)0 : (byte)1;
        }
        catch (Exception)
        {
            return 1;
        }
    }
}
