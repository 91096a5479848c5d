using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Tests.Models.Hub;

public sealed class HubRepositoryTests
{
    [Fact]
    public void Builds_the_hubs_resolve_and_revision_urls_with_escaped_parts()
    {
        var repo = HubRepository.Parse("Qwen/Qwen2.5-0.5B-Instruct-GGUF");
        var endpoint = new Uri("https://mirror.example/hf/");

        Assert.Equal("https://mirror.example/hf/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/refs%2Fpr%2F1/sub/a%20b.gguf", repo.ResolveUrl(endpoint, "refs/pr/1", "sub/a b.gguf").AbsoluteUri);
        Assert.Equal("https://mirror.example/hf/api/models/Qwen/Qwen2.5-0.5B-Instruct-GGUF/revision/main", repo.RevisionUrl(endpoint, "main").AbsoluteUri);
    }

    [Theory]
    [InlineData("no-slash")]
    [InlineData("a/b/c")]
    [InlineData("../etc")]
    [InlineData("")]
    public void Rejects_what_is_not_org_slash_name(string value)
        => Assert.Contains("organization/name", Assert.Throws<ArgumentException>(() => HubRepository.Parse(value)).Message);

    [Theory]
    [InlineData("../model.gguf")]
    [InlineData("/abs.gguf")]
    [InlineData("model.safetensors")]
    public void Rejects_file_paths_that_escape_the_repository_or_are_not_gguf(string file)
        => Assert.Throws<ArgumentException>(() => HubRepository.ValidateFile(file));

    [Fact]
    public void The_published_sha256_is_taken_only_from_a_64_hex_entity_tag()
    {
        var url = new Uri("http://cdn/x");
        Assert.Equal(new string('a', 64), new HubFileInfo(url, null, new string('A', 64), 1).Sha256);
        Assert.Null(new HubFileInfo(url, null, "a1b2c3", 1).Sha256);
    }
}
