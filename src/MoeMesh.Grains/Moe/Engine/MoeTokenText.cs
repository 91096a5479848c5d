using System.Globalization;
using System.Text;

namespace MoeMesh.Grains.Moe.Engine;

/// <summary>
/// Text in and out of a Mixture-of-Experts model served without a tokenizer (GGUF <c>no_vocab</c>):
/// a prompt made only of whitespace-separated token ids in range is read as those ids; any other
/// prompt is read byte by byte (UTF-8), byte b becoming token b mod vocabulary. Output tokens are
/// written as their ids, each followed by a space, so the caller sees exactly what the model chose.
/// </summary>
public static class MoeTokenText
{
    public static int[] Encode(string prompt, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        var words = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[words.Length];
        var allIds = words.Length > 0;
        for (var i = 0; i < words.Length && allIds; i++)
        {
            allIds = int.TryParse(words[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]) && ids[i] < vocabularySize;
        }

        return allIds ? ids : [.. Encoding.UTF8.GetBytes(prompt).Select(b => b % vocabularySize)];
    }

    public static string Decode(int token) => token.ToString(CultureInfo.InvariantCulture) + " ";
}
