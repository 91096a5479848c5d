namespace MoeMesh.Generation;

/// <summary>One message of a conversation.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.chat-turn")]
public sealed record ChatTurn([property: Id(0)] string Role, [property: Id(1)] string Content)
{
    public const string SystemRole = "system";
    public const string UserRole = "user";
    public const string AssistantRole = "assistant";

    public static ChatTurn System(string content) => new(SystemRole, content);

    public static ChatTurn User(string content) => new(UserRole, content);

    public static ChatTurn Assistant(string content) => new(AssistantRole, content);
}
