using EdgeInference.Agent.Settings;
using EdgeInference.Contracts;
using EdgeInference.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeInference.Tests.Settings;

/// <summary>The fleet's settings kept on the device: a damaged file never stops the agent, and the next change repairs it.</summary>
public sealed class DeviceSettingsTests
{
    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"input_sample_rate": 5}""")]
    [InlineData("""{"execution_providers": ["TPU"]}""")]
    public void DeviceSettings_WithADamagedOrInvalidSavedFile_UseTheAgentsOwnConfiguration_AndTheNextChangeIsSavedSound(string saved)
    {
        var data = TestPaths.NewTempDirectory("device-settings");
        File.WriteAllText(Path.Combine(data, DeviceSettings.FileName), saved);

        var settings = new DeviceSettings(data, NullLogger.Instance);
        Assert.Null(settings.Current.InputSampleRate);
        Assert.Null(settings.Current.ExecutionProviders);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.TelemetryInterval(TimeSpan.FromSeconds(10)));
        Assert.Equal(0.25, settings.InputSampleRate(0.25));

        settings.Apply(new DesiredConfiguration { TelemetryIntervalSeconds = 2 });
        var reopened = new DeviceSettings(data, NullLogger.Instance);
        Assert.Equal(TimeSpan.FromSeconds(2), reopened.TelemetryInterval(TimeSpan.FromSeconds(10)));
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public void Apply_WithAnOutOfRangeValue_ThrowsNamingTheFieldAndChangesNothing()
    {
        var data = TestPaths.NewTempDirectory("device-settings");
        var settings = new DeviceSettings(data, NullLogger.Instance);

        var refused = Assert.Throws<ArgumentException>(() => settings.Apply(new DesiredConfiguration { DriftIntervalSeconds = 0 }));
        Assert.Contains("drift_interval_seconds", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, DeviceSettings.FileName)));
        Assert.Null(settings.Current.DriftIntervalSeconds);
        Directory.Delete(data, recursive: true);
    }
}
