using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace EdgeInference.Fleet.Api;

/// <summary>
/// Bearer tokens on <c>/api/v1</c> and <c>/metrics</c>: operators may do anything, readers may read, devices may
/// only download package files. <c>/api/v1/health</c>, the OpenAPI document and the dashboard's static files are
/// open (the dashboard asks for a token and sends it with every call).
/// </summary>
public static class FleetAuthentication
{
    public const string SubjectKey = "edgefleet.subject";

    public const string RoleKey = "edgefleet.role";

    public static IApplicationBuilder UseFleetAuthentication(this IApplicationBuilder app, Credentials credentials)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(credentials);
        return app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            var guarded = path.StartsWithSegments("/api/v1", StringComparison.Ordinal) || path == "/metrics";
            if (!guarded || path == "/api/v1/health" || path == "/api/v1/openapi.json")
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            var header = context.Request.Headers.Authorization.ToString();
            var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
            if (credentials.Find(token) is not { } credential)
            {
                await FleetApi.Error(401, token is null ? "this API needs a bearer token (Authorization: Bearer …)" : "the bearer token is not known here").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            var reading = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
            var allowed = credential.Role switch
            {
                Roles.Operator => true,
                Roles.Reader => reading,
                Roles.Device => reading && IsPackageFile(path),
                _ => false,
            };
            if (!allowed)
            {
                await FleetApi.Error(403, $"a {credential.Role} token may not {context.Request.Method} {path}").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            context.Items[SubjectKey] = $"{credential.Role}:{credential.Subject}";
            context.Items[RoleKey] = credential.Role;
            await next(context).ConfigureAwait(false);
        });
    }

    private static bool IsPackageFile(PathString path)
    {
        var segments = path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments is ["api", "v1", "packages", _, _, "files", _];
    }
}
