using System.Globalization;

namespace Wafer.Cli;

/// <summary>Human-readable byte counts, and parsing of sizes like <c>4MiB</c>.</summary>
internal static class ByteSize
{
    private static readonly string[] s_units = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Format(long bytes)
    {
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < s_units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.##} {s_units[unit]}");
    }

    public static bool TryParse(string text, out int bytes)
    {
        bytes = 0;
        string trimmed = text.Trim();
        int split = 0;
        while (split < trimmed.Length && char.IsAsciiDigit(trimmed[split]))
        {
            split++;
        }

        if (split == 0 || !long.TryParse(trimmed.AsSpan(0, split), NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            return false;
        }

        long scale = trimmed[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => -1,
        };
        if (scale < 0 || number > int.MaxValue / scale)
        {
            return false;
        }

        bytes = (int)(number * scale);
        return true;
    }

    public static string Percent(long part, long whole) =>
        whole == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:0.0}%");
}
