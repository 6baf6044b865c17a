using EdgeInference.Testing;
using EdgeInference.Testing.Fuzzing;

namespace EdgeInference.Tests.Fuzzing;

/// <summary>
/// R9: every input the coverage-guided fuzzer kept (tests/EdgeInference.Fuzz/corpus) and every crash or hang it ever
/// found (regressions/) goes through its target again in every test run: each is read or refused with a clear error.
/// </summary>
public sealed class FuzzRegressionTests : IDisposable
{
    private static readonly string Root = Path.Combine(TestPaths.RepositoryRoot, "tests", "EdgeInference.Fuzz");
    private readonly FuzzTargets _targets = new();

    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    public void Dispose() => _targets.Dispose();

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryKeptInputAndEveryFinding_IsReadOrRefusedCleanly(string target)
    {
        var inputs = new[] { "corpus", "regressions" }
            .Select(folder => Path.Combine(Root, folder, target))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .ToList();
        Assert.NotEmpty(inputs);
        foreach (var input in inputs)
        {
            var exception = Record.Exception(() => _targets.Run(target, File.ReadAllBytes(input)));
            Assert.True(exception is null, $"{target}: {Path.GetRelativePath(Root, input)} threw {exception}");
        }
    }
}
