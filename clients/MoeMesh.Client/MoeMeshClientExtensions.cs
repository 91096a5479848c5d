using MoeMesh.Queries;

namespace MoeMesh.Client;

/// <summary>Conveniences over <see cref="IMoeMeshClient"/> for plain prompts.</summary>
public static class MoeMeshClientExtensions
{
    /// <summary>Asks <paramref name="prompt"/> as a single user message.</summary>
    public static Task<QueryResult> AskAsync(this IMoeMeshClient client, string prompt, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.AskAsync(Query.FromPrompt(prompt, options), cancellationToken);
    }

    /// <summary>Streams the answer to <paramref name="prompt"/> as a single user message.</summary>
    public static IAsyncEnumerable<QueryEvent> StreamAsync(this IMoeMeshClient client, string prompt, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.StreamAsync(Query.FromPrompt(prompt, options), cancellationToken);
    }

    /// <summary>Only the answer's text pieces from a query stream.</summary>
    public static async IAsyncEnumerable<string> AnswerText(this IAsyncEnumerable<QueryEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        await foreach (var e in events)
        {
            if (e is TokenProduced { IsAnswer: true } token)
            {
                yield return token.Text;
            }
        }
    }
}
