namespace EdgeInference.Fleet.Api;

/// <summary>A device's credentials from <c>POST /api/v1/devices/{id}/enroll</c>: shown once, stored only hashed.</summary>
public sealed class Enrollment
{
    public string DeviceId { get; set; } = "";

    /// <summary>The MQTT password (downloads use the per-package token in each deploy command).</summary>
    public string Secret { get; set; } = "";

    /// <summary>The MQTT user name (the device id).</summary>
    public string Username { get; set; } = "";

    /// <summary>The MQTT client id the broker expects (<c>edge-agent-{id}</c>, which the agent uses).</summary>
    public string ClientId { get; set; } = "";

    public string MqttUrl { get; set; } = "";

    /// <summary>
    /// The certificate to pin for <see cref="MqttUrl"/> (mqtts) and HTTPS downloads (the agent's <c>Mqtt:CaPem</c>): the
    /// fleet's own, or its operator's CA; absent when the system's trust store suffices.
    /// </summary>
    public string? CaPem { get; set; }

    public string FleetUrl { get; set; } = "";
}
