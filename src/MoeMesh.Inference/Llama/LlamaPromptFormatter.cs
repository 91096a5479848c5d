using System.Text;
using MoeMesh.Errors;
using MoeMesh.Generation;

namespace MoeMesh.Inference.Llama;

/// <summary>A prompt ready to decode.</summary>
/// <param name="Tokens">The prompt's tokens, after templating and any truncation.</param>
/// <param name="DroppedTokens">Tokens removed by <see cref="PromptOverflowPolicy.TruncateStart"/>.</param>
internal sealed record PreparedPrompt(int[] Tokens, int DroppedTokens);

/// <summary>
/// Turns a <see cref="GenerationRequest"/> into prompt tokens: applies the chat template, tokenizes,
/// and enforces the context window.
///
/// Template choice, first that llama.cpp can apply: the manifest's "chat_template" engine option,
/// the model's own <c>tokenizer.chat_template</c>, <see cref="LlamaEngineOptions.FallbackChatTemplate"/>;
/// if none works, turns are written as "role: content" lines followed by "assistant:".
/// </summary>
internal sealed class LlamaPromptFormatter
{
    private const string PlainTemplateName = "plain (role: content)";

    private readonly LlamaModel _model;
    private readonly string? _template;

    public LlamaPromptFormatter(LlamaModel model, LlamaExpertSettings settings)
    {
        _model = model;
        var probe = new[] { ChatTurn.User("x") };
        var candidates = new (string? Template, string Name)[]
        {
            (settings.ChatTemplateOverride, $"manifest chat_template '{settings.ChatTemplateOverride}'"),
            (model.EmbeddedChatTemplate, "the model's tokenizer.chat_template"),
            (settings.FallbackChatTemplate, $"fallback '{settings.FallbackChatTemplate}'"),
        };
        foreach (var (candidate, name) in candidates)
        {
            if (!string.IsNullOrWhiteSpace(candidate) && LlamaModel.ApplyChatTemplate(candidate, probe, addAssistantPrefix: true) is not null)
            {
                _template = candidate;
                TemplateDescription = name;
                return;
            }
        }

        TemplateDescription = PlainTemplateName;
    }

    /// <summary>Which template is in use, for the log.</summary>
    public string TemplateDescription { get; }

    /// <summary>The prompt text for <paramref name="messages"/>, ending with the assistant's turn.</summary>
    public string Format(IReadOnlyList<ChatTurn> messages, bool addAssistantPrefix = true)
    {
        if (_template is not null && LlamaModel.ApplyChatTemplate(_template, messages, addAssistantPrefix) is { } formatted)
        {
            return formatted;
        }

        var text = new StringBuilder();
        foreach (var message in messages)
        {
            text.Append(message.Role).Append(": ").Append(message.Content).Append('\n');
        }

        return addAssistantPrefix ? text.Append("assistant:").ToString() : text.ToString();
    }

    /// <summary>
    /// Tokens for <paramref name="request"/> within <paramref name="contextSize"/>. A prompt must
    /// leave room for at least one generated token. With <see cref="PromptOverflowPolicy.Reject"/> a
    /// longer prompt is an <see cref="InvalidRequestException"/> naming both counts; with
    /// <see cref="PromptOverflowPolicy.TruncateStart"/> the oldest turns after the first are dropped,
    /// then the oldest tokens after the first turn's, until the prompt leaves room for the request's
    /// max tokens (or for half the window, whichever is smaller).
    /// </summary>
    public PreparedPrompt Prepare(GenerationRequest request, int contextSize)
    {
        var messages = request.Messages.ToList();
        var tokens = Render(request, messages);
        if (tokens.Length == 0)
        {
            throw new InvalidRequestException("The prompt is empty after tokenization.");
        }

        if (tokens.Length < contextSize)
        {
            return new PreparedPrompt(tokens, 0);
        }

        if (request.Overflow == PromptOverflowPolicy.Reject)
        {
            throw new InvalidRequestException(
                $"The prompt is {tokens.Length} tokens but the expert's context window is {contextSize} tokens, and at least one token " +
                "must be left for the answer. Shorten the prompt, or set Overflow to TruncateStart to drop its oldest part.");
        }

        var original = tokens.Length;
        var budget = contextSize - Math.Min(request.MaxTokens, contextSize / 2);
        while (tokens.Length > budget && request.RawPrompt is null && messages.Count > 2)
        {
            messages.RemoveAt(1);
            tokens = Render(request, messages);
        }

        if (tokens.Length > budget)
        {
            var head = _model.AddsBeginToken ? 1 : 0;
            if (request.RawPrompt is null && messages.Count >= 2)
            {
                var firstTurn = _model.Tokenize(Format([messages[0]], addAssistantPrefix: false), addSpecial: true);
                head = Math.Min(firstTurn.Length, budget / 2);
            }

            tokens = [.. tokens.AsSpan(0, head), .. tokens.AsSpan(tokens.Length - (budget - head))];
        }

        return new PreparedPrompt(tokens, original - tokens.Length);
    }

    private int[] Render(GenerationRequest request, IReadOnlyList<ChatTurn> messages) =>
        _model.Tokenize(request.RawPrompt ?? Format(messages), addSpecial: true);
}
