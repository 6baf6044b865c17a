using EdgeInference.Contracts;
using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Cloud;

/// <summary>Refuses MQTT settings the agent cannot run with, naming the setting and the problem.</summary>
public sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Url))
        {
            return ValidateOptionsResult.Success; // standalone
        }

        var failures = new List<string>();
        MqttEndpoint? endpoint = null;
        try
        {
            endpoint = MqttEndpoint.Parse(options.Url);
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        if (!MqttTopics.IsValidDeviceId(CloudHostingExtensions.DeviceIdOf(options)))
        {
            failures.Add($"--device-id (Mqtt:DeviceId) '{options.DeviceId}' cannot be a topic level: it must be 1 to 128 characters without '/', '+', '#' or spaces");
        }

        if (options.Protocol is not ("5" or "3.1.1"))
        {
            failures.Add($"--mqtt-protocol (Mqtt:Protocol) must be 5 or 3.1.1, not '{options.Protocol}'");
        }

        if ((options.CaFile ?? options.CaPem ?? options.CertFile ?? options.KeyFile) is not null && endpoint is { Tls: false })
        {
            failures.Add("--mqtt-ca, Mqtt:CaPem, --mqtt-cert and --mqtt-key need an mqtts:// broker address");
        }

        if (options.CaPem is { Length: > 0 } pem && !IsCertificatePem(pem))
        {
            failures.Add("Mqtt:CaPem is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        if ((options.CertFile is null) != (options.KeyFile is null))
        {
            failures.Add("--mqtt-cert and --mqtt-key (Mqtt:CertFile, Mqtt:KeyFile) go together: a client certificate and its private key");
        }

        foreach (var (setting, path) in new[] { ("--mqtt-ca (Mqtt:CaFile)", options.CaFile), ("--mqtt-cert (Mqtt:CertFile)", options.CertFile), ("--mqtt-key (Mqtt:KeyFile)", options.KeyFile) })
        {
            if (path is not null && !File.Exists(path))
            {
                failures.Add($"{setting} '{path}' does not exist");
            }
        }

        if (options.ReconnectMinDelay <= TimeSpan.Zero || options.ReconnectMaxDelay < options.ReconnectMinDelay)
        {
            failures.Add($"Mqtt:ReconnectMinDelay must be positive and at most Mqtt:ReconnectMaxDelay, not {options.ReconnectMinDelay} and {options.ReconnectMaxDelay}");
        }

        if (options.TelemetryInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"--telemetry-interval (Mqtt:TelemetryInterval) must be at least 100 ms, not {options.TelemetryInterval}");
        }

        if (options.PredictionBatchSize < 1 || options.BacklogRecordsPerSecond < 1)
        {
            failures.Add("Mqtt:PredictionBatchSize and Mqtt:BacklogRecordsPerSecond must be positive");
        }

        if (options.Outbox.MaxRecords < 1 || options.Outbox.BatchSize < 1 || options.Outbox.QueueCapacity < 1)
        {
            failures.Add("Mqtt:Outbox MaxRecords, BatchSize and QueueCapacity must be positive");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsCertificatePem(string pem)
    {
        try
        {
            var certificates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            certificates.ImportFromPem(pem);
            return certificates.Count > 0;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
