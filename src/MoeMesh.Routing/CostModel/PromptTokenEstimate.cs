namespace MoeMesh.Routing.CostModel;

/// <summary>
/// The prompt length in tokens that cost predictions assume when no tokenizer is at hand: the
/// characters of the question and its options over a characters-per-token ratio, rounded up, plus the
/// tokens the chat template and instructions add. The evaluation, the replay engine and the live
/// router all count a prompt this way, so their predictions agree.
/// </summary>
public static class PromptTokenEstimate
{
    /// <summary>Characters per token assumed by default (English text, BPE vocabularies).</summary>
    public const double DefaultCharsPerToken = 4;

    /// <summary>Tokens the chat template and instructions add to every prompt by default.</summary>
    public const int DefaultTemplateTokens = 32;

    /// <summary>
    /// Tokens of a prompt of <paramref name="promptChars"/> characters. An empty question still costs
    /// the template's tokens.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative length or template, or a ratio that is not a positive number.</exception>
    public static int Of(int promptChars, double charsPerToken = DefaultCharsPerToken, int templateTokens = DefaultTemplateTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptChars);
        ArgumentOutOfRangeException.ThrowIfNegative(templateTokens);
        if (!double.IsFinite(charsPerToken) || charsPerToken <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(charsPerToken), charsPerToken, "characters per token must be a positive number");
        }

        return (int)Math.Ceiling(promptChars / charsPerToken) + templateTokens;
    }
}
