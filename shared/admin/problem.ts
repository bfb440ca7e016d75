/** An RFC 9457 problem document, the body of every error answer of the admin API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  jsonBody: Problem;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Configuration Error',
  502: 'Bad Gateway',
};

export function problem(
  status: number,
  detail: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ProblemResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    jsonBody: { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...extensions },
  };
}
