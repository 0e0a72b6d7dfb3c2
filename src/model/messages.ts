/**
 * The words of every Discord message, per locale. `pt-BR` is the kit's wording (legacy-kit.md §11-14), the
 * default so that readers and channel filters built on the kit keep working; `en` is for everyone else
 * (MC_MESSAGE_LOCALE). Ids, field names, statuses and the ref line stay untranslated: they are matched on.
 */
export type MessageLocale = 'pt-BR' | 'en';

export interface MessageCatalog {
  deliveryHeader: string;
  progress: string;
  result: string;
  approvalHeader: string;
  noLinkedTask: string;
  otherTasks: string;
  reason: string;
  costHeader(days: number): string;
  costTasks: string;
  costTotal: string;
  costEstimated: string;
  costByBoard: string;
  costByAgent: string;
  costTop(n: number): string;
  degradeEnter(what: string): string;
  degradeExit(what: string): string;
  memoryNormal: string;
  memoryPressure: string;
  cgroupHeadroom: string;
  oomKill: string;
  cgroupLimit: string;
  nodeMemoryPressure: string;
}

const PT_BR: MessageCatalog = {
  deliveryHeader: '[Mission Control] Entrega automática de tarefa concluída',
  progress: 'Progresso',
  result: 'Resultado',
  approvalHeader: '🔔 Approval pendente no Mission Control',
  noLinkedTask: '(nenhuma task vinculada)',
  otherTasks: 'Outras tasks',
  reason: 'Motivo',
  costHeader: (days) => `[Mission Control] Cost report (últimos ${days} dias)`,
  costTasks: 'Tasks consideradas',
  costTotal: 'Custo total',
  costEstimated: 'Estimado',
  costByBoard: 'Por board:',
  costByAgent: 'Por agente:',
  costTop: (n) => `Top ${n} por custo:`,
  degradeEnter: (what) => `🛑 Resource degrade mode ativado: ${what}. Spawns críticos em pausa.`,
  degradeExit: (what) => `✅ Recover de recursos: ${what}. Retomando operação normal.`,
  memoryNormal: 'pressão de memória normalizada',
  memoryPressure: 'pressão de memória',
  cgroupHeadroom: 'folga do cgroup',
  oomKill: 'OOM kill detectado',
  cgroupLimit: 'limite de memória do cgroup atingido',
  nodeMemoryPressure: 'Node com MemoryPressure',
};

const EN: MessageCatalog = {
  deliveryHeader: '[Mission Control] Finished task delivered',
  progress: 'Progress',
  result: 'Result',
  approvalHeader: '🔔 Approval pending in Mission Control',
  noLinkedTask: '(no linked task)',
  otherTasks: 'Other tasks',
  reason: 'Reason',
  costHeader: (days) => `[Mission Control] Cost report (last ${days} days)`,
  costTasks: 'Tasks counted',
  costTotal: 'Total cost',
  costEstimated: 'Estimated',
  costByBoard: 'By board:',
  costByAgent: 'By agent:',
  costTop: (n) => `Top ${n} by cost:`,
  degradeEnter: (what) => `🛑 Resource degrade mode on: ${what}. Critical spawns paused.`,
  degradeExit: (what) => `✅ Resources recovered: ${what}. Back to normal operation.`,
  memoryNormal: 'memory pressure back to normal',
  memoryPressure: 'memory pressure',
  cgroupHeadroom: 'cgroup headroom',
  oomKill: 'OOM kill detected',
  cgroupLimit: 'cgroup memory limit reached',
  nodeMemoryPressure: 'node under MemoryPressure',
};

const CATALOGS: Record<MessageLocale, MessageCatalog> = { 'pt-BR': PT_BR, en: EN };

export function messages(locale: MessageLocale = 'pt-BR'): MessageCatalog {
  return CATALOGS[locale];
}
