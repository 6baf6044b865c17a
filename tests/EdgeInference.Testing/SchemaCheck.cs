using System.Text.Json.Nodes;

namespace EdgeInference.Testing;

/// <summary>Checks payloads against a schema of docs/mqtt/schemas with Ajv (tests/schema-check), with a broken copy as the negative control.</summary>
public static class SchemaCheck
{
    /// <summary>
    /// Fails unless every payload validates against <c>{kind}.schema.json</c> and a copy of the first, changed by
    /// <paramref name="breakIt"/>, is refused with a message naming <paramref name="brokenField"/>.
    /// </summary>
    public static async Task AssertValidAsync(string kind, IReadOnlyList<byte[]> payloads, Action<JsonObject> breakIt, string brokenField)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        ArgumentNullException.ThrowIfNull(breakIt);
        if (payloads.Count == 0)
        {
            throw new InvalidOperationException($"no {kind} payloads to check");
        }

        var work = TestPaths.NewTempDirectory("schema-" + kind);
        try
        {
            var files = payloads.Select((payload, i) =>
            {
                var file = Path.Combine(work, $"{kind}-{i}.json");
                File.WriteAllBytes(file, payload);
                return file;
            }).ToArray();
            var broken = Path.Combine(work, $"{kind}-broken.json");
            var mutated = JsonNode.Parse(payloads[0])!.AsObject();
            breakIt(mutated);
            File.WriteAllText(broken, mutated.ToJsonString());
            var schema = Path.Combine(TestPaths.RepositoryRoot, "docs", "mqtt", "schemas", $"{kind}.schema.json");

            var valid = await NodeScript.RunAsync(Path.Combine("schema-check", "validate.js"), [schema, .. files], TimeSpan.FromSeconds(60));
            var invalid = await NodeScript.RunAsync(Path.Combine("schema-check", "validate.js"), [schema, broken], TimeSpan.FromSeconds(60));
            if (valid.ExitCode != 0)
            {
                throw new InvalidOperationException($"{kind}: {valid.Stdout}{valid.Stderr}");
            }

            if (invalid.ExitCode != 1 || !invalid.Stdout.Contains(brokenField, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{kind}, broken copy not refused for {brokenField}: {invalid.Stdout}{invalid.Stderr}");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
