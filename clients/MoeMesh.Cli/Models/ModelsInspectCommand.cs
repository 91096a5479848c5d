using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models inspect &lt;file.gguf&gt;</c>: what a GGUF file holds, after full validation.</summary>
public static class ModelsInspectCommand
{
    private const int ArrayPreview = 8;

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The GGUF file." };
        var tensors = new Option<bool>("--tensors") { Description = "List every tensor (otherwise the first 10)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("inspect", "Validate a GGUF file and show its header: metadata, tensors, sizes.") { file, tensors, json };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var path = parse.GetValue(file)!;
            GgufFile gguf;
            try
            {
                gguf = GgufReader.Read(path);
            }
            catch (Exception e) when (e is GgufFormatException or IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {path}: {e.Message}");
                return 1;
            }

            if (parse.GetValue(json))
            {
                stdout.WriteLine(CliJson.Serialize(new
                {
                    path = Path.GetFullPath(path),
                    fileBytes = gguf.FileSize,
                    version = gguf.Version,
                    alignment = gguf.Alignment,
                    dataOffset = gguf.DataOffset,
                    architecture = gguf.Architecture,
                    name = gguf.Name,
                    tensorCount = gguf.Tensors.Count,
                    parameterCount = gguf.ParameterCount,
                    tensorBytes = gguf.TensorBytes,
                    metadata = gguf.Metadata.ToDictionary(kv => kv.Key, kv => JsonValue(kv.Value)),
                    tensors = gguf.Tensors.Select(t => new { name = t.Name, type = t.Type.ToString(), shape = t.Shape, offset = t.Offset, bytes = t.ByteSize }),
                }));
                return 0;
            }

            var inv = CultureInfo.InvariantCulture;
            stdout.WriteLine(string.Create(inv, $"{Path.GetFullPath(path)}: {gguf.FileSize:N0} bytes"));
            stdout.WriteLine(string.Create(inv, $"GGUF version {gguf.Version}, alignment {gguf.Alignment}, data section at byte {gguf.DataOffset:N0}"));
            stdout.WriteLine($"architecture: {gguf.Architecture ?? "(none)"}, name: {gguf.Name ?? "(none)"}");
            stdout.WriteLine(string.Create(inv, $"tensors: {gguf.Tensors.Count:N0} ({gguf.ParameterCount:N0} parameters, {gguf.TensorBytes:N0} bytes)"));
            stdout.WriteLine($"metadata ({gguf.Metadata.Count}):");
            foreach (var (key, value) in gguf.Metadata)
            {
                stdout.WriteLine($"  {key} = {value}");
            }

            var shown = parse.GetValue(tensors) ? gguf.Tensors : gguf.Tensors.Take(10).ToList();
            if (shown.Count > 0)
            {
                stdout.WriteLine("tensors:");
                var width = shown.Max(t => t.Name.Length);
                foreach (var tensor in shown)
                {
                    stdout.WriteLine(string.Create(inv, $"  {tensor.Name.PadRight(width)}  {tensor.Type,-6} [{string.Join(", ", tensor.Shape)}]  {tensor.ByteSize:N0} bytes at +{tensor.Offset:N0}"));
                }

                if (shown.Count < gguf.Tensors.Count)
                {
                    stdout.WriteLine($"  … {gguf.Tensors.Count - shown.Count} more (use --tensors)");
                }
            }

            return 0;
        });
        return command;
    }

    private static object? JsonValue(GgufValue value)
    {
        if (!value.IsArray)
        {
            return value.RawValue;
        }

        var items = (Array)value.RawValue;
        return new
        {
            type = value.ElementType.ToString(),
            length = items.Length,
            first = items.Cast<object>().Take(ArrayPreview).Select(i => i is GgufValue nested ? JsonValue(nested) : i).ToList(),
        };
    }
}
