namespace EdgeInference.Tests.DeviceImages;

/// <summary>
/// Runs <see cref="DebianPackageTests"/> alone, after every other test class: mmdebstrap, dpkg and lintian load both
/// cores and the disk, which would make other tests' timings lie.
/// </summary>
[CollectionDefinition(DebianPackageTests.Alone, DisableParallelization = true)]
public sealed class DebianPackageTestsCollection;
