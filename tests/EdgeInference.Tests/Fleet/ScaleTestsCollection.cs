namespace EdgeInference.Tests.Fleet;

/// <summary>Runs <see cref="ScaleTests"/> alone, after every other test class.</summary>
[CollectionDefinition(ScaleTests.Alone, DisableParallelization = true)]
public sealed class ScaleTestsCollection;
