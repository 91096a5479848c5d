using MoeMesh.Dashboard.Security;

namespace MoeMesh.Dashboard.Tests.Security;

public sealed class ApiKeySetTests
{
    private const string Key = "first-key-0123456789";
    private const string Other = "second-key-abcdefghij";

    [Fact]
    public void Only_configured_keys_match()
    {
        var keys = new ApiKeySet([Key, Other]);

        Assert.True(keys.Required);
        Assert.True(keys.IsValidKey(Key));
        Assert.True(keys.IsValidKey(Other));
        Assert.False(keys.IsValidKey(Key + "x"));
        Assert.False(keys.IsValidKey(Key[..^1]));
        Assert.False(keys.IsValidKey(""));
        Assert.False(keys.IsValidKey(null));
    }

    [Fact]
    public void Session_tokens_stand_for_a_key_without_containing_it()
    {
        var keys = new ApiKeySet([Key]);
        var token = ApiKeySet.SessionTokenFor(Key);

        Assert.True(keys.IsValidSession(token));
        Assert.DoesNotContain(Key, token, StringComparison.Ordinal);
        Assert.False(keys.IsValidSession(Key));
        Assert.False(keys.IsValidSession(ApiKeySet.SessionTokenFor(Other)));
        Assert.False(keys.IsValidKey(token));
    }

    [Fact]
    public void Without_keys_nothing_is_required_and_nothing_matches()
    {
        var keys = new ApiKeySet([]);

        Assert.False(keys.Required);
        Assert.False(keys.IsValidKey(Key));
        Assert.False(keys.IsValidSession(ApiKeySet.SessionTokenFor(Key)));
    }
}
